// Append-only session logs: `<data>/sessions/<id>.jsonl`, one `{role, content, timestamp}` per
// line (extra fields allowed). Reads come from the end of the file; corrupt lines are skipped.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { emitEvent } from '../observe/index.js';
import { appendLinesDeferred, countLines, readLastLines } from './jsonl.js';
import { sanitizeSessionId, validateSessionId } from './session-id.js';
import { writeJsonAtomic } from './atomic-file.js';

/** One stored message. `role` is user|assistant|system|tool; extra fields ride along. */
export interface SessionRecord {
  role: string;
  content: string;
  timestamp: string;
  [extra: string]: unknown;
}

export interface SessionStoreOptions {
  /** fsync every append (default true). */
  fsync?: boolean;
}

export class SessionStore {
  private readonly counts = new Map<string, { size: number; lines: number }>();

  constructor(readonly dir: string, private readonly options: SessionStoreOptions = {}) {}

  /** Validated path of a session's file. */
  pathFor(sessionId: string): string {
    validateSessionId(sessionId);
    return join(this.dir, `${sanitizeSessionId(sessionId)}.jsonl`);
  }

  /** Appends records durably (fdatasync unless disabled); resolves once they are on disk. */
  async append(sessionId: string, ...records: SessionRecord[]): Promise<void> {
    await this.appendDeferred(sessionId, ...records);
  }

  /**
   * Writes the records now (readable at once, safe from a crash of this process) and returns a
   * promise that resolves when they are flushed to disk. Throws at once on a bad id or I/O error.
   */
  appendDeferred(sessionId: string, ...records: SessionRecord[]): Promise<void> {
    const path = this.pathFor(sessionId);
    const { before, after, synced } = appendLinesDeferred(path, records, { fsync: this.options.fsync !== false });
    // Keep the line count current without re-reading what we just wrote.
    const cached = this.counts.get(path);
    if (cached && cached.size === before) this.counts.set(path, { size: after, lines: cached.lines + records.length });
    else if (before === 0) this.counts.set(path, { size: after, lines: records.length });
    return synced;
  }

  /** The last `max` valid records, oldest first. */
  tail(sessionId: string, max: number): SessionRecord[] {
    const path = this.pathFor(sessionId);
    if (max <= 0) return [];
    // Read a little more than asked so that a few corrupt lines do not shrink the window.
    const lines = readLastLines(path, max + 8);
    const records = this.parse(path, lines);
    return records.slice(-max);
  }

  /** Every valid record (the `session` command). */
  all(sessionId: string): SessionRecord[] {
    const path = this.pathFor(sessionId);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return this.parse(path, text.split('\n').map((l) => l.trim()).filter(Boolean));
  }

  /**
   * Number of stored lines. Kept incrementally in `.index/<file>.json` (a cache: it is rebuilt
   * when missing or stale), so counting costs the same for ten messages or a million.
   */
  count(sessionId: string): number {
    const path = this.pathFor(sessionId);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return 0;
    }
    const idxPath = join(this.dir, '.index', `${sanitizeSessionId(sessionId)}.json`);
    let base = this.counts.get(path) ?? readIndex(idxPath);
    if (!base || base.size > size) base = { size: 0, lines: 0 };
    if (base.size === size) return base.lines;
    const delta = countLines(path, base.size);
    const total = { size: delta.size, lines: base.lines + delta.lines };
    if (endsWithNewline(path, delta.size)) {
      this.counts.set(path, total);
      if (delta.size - base.size > 256 * 1024) {
        try {
          mkdirSync(join(this.dir, '.index'), { recursive: true });
          writeJsonAtomic(idxPath, total, { fsync: false });
        } catch {
          // Only a cache.
        }
      }
    }
    return total.lines;
  }

  exists(sessionId: string): boolean {
    return existsSync(this.pathFor(sessionId));
  }

  private parse(path: string, lines: string[]): SessionRecord[] {
    const out: SessionRecord[] = [];
    for (const line of lines) {
      try {
        const v = JSON.parse(line) as unknown;
        if (v && typeof v === 'object' && typeof (v as SessionRecord).role === 'string' && typeof (v as SessionRecord).content === 'string') {
          const rec = v as SessionRecord;
          if (typeof rec.timestamp !== 'string') rec.timestamp = '';
          out.push(rec);
          continue;
        }
      } catch {
        // fall through
      }
      emitEvent('session_corrupt_line', { path, preview: line.slice(0, 80) });
    }
    return out;
  }
}

function readIndex(path: string): { size: number; lines: number } | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as { size?: unknown; lines?: unknown };
    if (typeof v.size === 'number' && typeof v.lines === 'number' && v.size >= 0 && v.lines >= 0) return { size: v.size, lines: v.lines };
  } catch {
    // missing or corrupt: recount
  }
  return undefined;
}

function endsWithNewline(path: string, size: number): boolean {
  if (size === 0) return true;
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}
