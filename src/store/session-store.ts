// Append-only session logs: `<data>/sessions/<id>.jsonl`, one `{role, content, timestamp}` per
// line (extra fields allowed). Reads come from the end of the file; corrupt lines are skipped.
// Files stay open while in use (a small LRU), and their disk flushes are group-committed.
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { emitEvent } from '../observe/index.js';
import { AppendFile, encodeLines, readTail } from './jsonl.js';
import { countLines } from './line-count.js';
import { TailCache, type FileStamp, type TailRead } from './tail-cache.js';
import { sanitizeSessionId, validateSessionId } from './session-id.js';
import { writeJsonAtomic } from './atomic-file.js';
import { CommitLog, recoverCommitLogs } from './commit-log.js';

/** One stored message. `role` is user|assistant|system|tool; extra fields ride along. */
export interface SessionRecord {
  role: string;
  content: string;
  timestamp: string;
  [extra: string]: unknown;
}

/**
 * A session's recent records as the file holds them now (SessionStore.recent). The records are
 * frozen and shared with the store's cache: no copy per call. Use a view before the next append
 * to that session.
 */
export interface RecentView {
  /** The last valid records, oldest first (fewer than asked: the whole session). */
  readonly records: readonly SessionRecord[];
  /** Lines in the file (as count()). */
  readonly total: number;
  /** Index in `records` of the last user record with this platform `message_id`, or -1. */
  indexOfUserMessage(messageId: string): number;
}

export interface SessionStoreOptions {
  /** fsync every append (default true). */
  fsync?: boolean;
  /**
   * Group-commit appends across session files through one log (commit-log.ts): for long-running
   * processes with many chats (`serve`). Leftover logs of crashed processes are replayed first.
   */
  commitLog?: boolean;
}

/** Open session files kept for appends (each holds one descriptor). Above the chats a busy bot
 * serves at once: at 64, 200 active chats reopened (open, fstat, pread, close) a file per turn. */
const MAX_OPEN = 256;

export class SessionStore {
  private readonly counts = new Map<string, { size: number; lines: number }>();
  private readonly open = new Map<string, AppendFile>();
  /** The one cache of session tails (the runtime's history window and replay check use it). */
  private readonly tails = new TailCache<SessionRecord>((r) => (r.role === 'user' && typeof r.message_id === 'string' ? r.message_id : undefined));
  /** Valid session ids and their files (validation and escaping once per id, not per call). */
  private readonly paths = new Map<string, string>();

  private readonly log: CommitLog | undefined;

  constructor(readonly dir: string, private readonly options: SessionStoreOptions = {}) {
    if (options.commitLog && options.fsync !== false) {
      const r = recoverCommitLogs(dir);
      if (r.logs > 0) emitEvent('session_commit_log_recovered', { dir, logs: r.logs, restored_lines: r.restored });
      for (const f of r.failed ?? []) emitEvent('session_error', { session_id: '*', message: `cannot replay commit log ${f.log} (kept): ${f.error}` });
      this.log = new CommitLog(dir, { onError: (err) => emitEvent('session_error', { session_id: '*', message: `commit log checkpoint failed (kept for recovery): ${err.message}` }) });
    }
  }

  /** Validated path of a session's file. */
  pathFor(sessionId: string): string {
    let path = this.paths.get(sessionId);
    if (path !== undefined) return path;
    validateSessionId(sessionId);
    path = join(this.dir, `${sanitizeSessionId(sessionId)}.jsonl`);
    if (this.paths.size >= 4096) this.paths.clear(); // a turn asks ~4 times per session id
    this.paths.set(sessionId, path);
    return path;
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
    if (records.length === 0) return Promise.resolve();
    const { file, size } = this.fileFor(path);
    const text = encodeLines(records);
    const { before, after } = file.append(text, size);
    this.tails.appended(path, file.ino, before, after, records);
    // Keep the line count current without re-reading what we just wrote.
    const cached = this.counts.get(path);
    if (cached && cached.size === before) this.counts.set(path, { size: after, lines: cached.lines + records.length });
    else if (before === 0) this.counts.set(path, { size: after, lines: records.length });
    if (this.options.fsync === false) return Promise.resolve();
    return this.log ? this.log.add(file, after - Buffer.byteLength(text), text, records.length) : file.flush();
  }

  /**
   * The stat of a view taken in this same synchronous run of code: a turn reads its view and
   * appends the user's line without yielding in between, so the append's check that the path
   * still names our open file can use it (the window is the same as a stat of its own: no other
   * code of ours runs in between). Forgotten at the next microtask.
   */
  private fresh: { path: string; st: { ino: number; size: number } } | undefined;

  private remember(path: string, st: { ino: number; size: number }): void {
    if (!this.fresh) queueMicrotask(() => (this.fresh = undefined));
    this.fresh = { path, st: { ino: st.ino, size: st.size } };
  }

  /**
   * The open file for `path`, reopened when the file was replaced or removed behind our back,
   * with its current size when the check above already learnt it.
   */
  private fileFor(path: string): { file: AppendFile; size?: number } {
    let file = this.open.get(path);
    if (file) {
      let st: { ino: number; size: number } | undefined = this.fresh?.path === path ? this.fresh.st : undefined;
      this.fresh = undefined; // our append changes the size: good for one use
      if (!st) {
        try {
          st = statSync(path);
        } catch {
          st = undefined;
        }
      }
      this.open.delete(path);
      if (st?.ino === file.ino) {
        this.open.set(path, file); // most recently used last
        return { file, size: st.size };
      }
      this.retire(file);
    }
    file = new AppendFile(path);
    this.open.set(path, file);
    if (this.open.size > MAX_OPEN) {
      for (const [p, f] of this.open) {
        if (this.open.size <= MAX_OPEN) break;
        this.open.delete(p);
        this.retire(f);
      }
    }
    return { file };
  }

  /** Closes a file once its pending flushes are done. */
  private retire(file: AppendFile): void {
    // With a commit log an unflushed file is flushed before it closes (its checkpoint needs it).
    if (!file.busy && !(this.log && file.dirty)) return file.close();
    file.flush().then(
      () => file.close(),
      () => file.close(),
    );
  }

  /** Closes every open session file (after their flushes). */
  async close(): Promise<void> {
    await this.log?.close();
    const files = [...this.open.values()];
    this.open.clear();
    await Promise.allSettled(files.map((f) => f.flush()));
    for (const f of files) f.close();
  }

  /**
   * The last `max` valid records, oldest first, as copies the caller may change. Answered from
   * memory while the file is as we last read or wrote it (same inode, size and mtime), else read
   * from the end of the file.
   */
  tail(sessionId: string, max: number): SessionRecord[] {
    const path = this.pathFor(sessionId);
    const st = statSync(path, { throwIfNoEntry: false });
    return st ? this.tailAt(path, st, max).records.map((r) => ({ ...r })) : this.missing(path);
  }

  /**
   * The last `max` records, the line count and a message-id lookup, for one stat of the file
   * (a turn's replay check and history window). Shared, frozen records: see RecentView.
   */
  recent(sessionId: string, max: number): RecentView {
    const path = this.pathFor(sessionId);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return { records: this.missing(path), total: 0, indexOfUserMessage: () => -1 };
    this.remember(path, st);
    const total = this.countAt(sessionId, path, st.size);
    const view = this.tailAt(path, st, max);
    return { records: view.records, total, indexOfUserMessage: view.indexOfKey };
  }

  private tailAt(path: string, st: FileStamp, max: number) {
    return this.tails.view(path, st, max, (n): TailRead<SessionRecord> => {
      const read = readTail(path, n);
      return { ...read, records: this.parse(path, read.lines) };
    });
  }

  private missing(path: string): SessionRecord[] {
    this.tails.forget(path);
    return [];
  }

  /** Every valid record, in memory (small sessions, tests). */
  all(sessionId: string): SessionRecord[] {
    const path = this.pathFor(sessionId);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const end = text.lastIndexOf('\n'); // a line still being written is not there yet
    return this.parse(path, text.slice(0, end + 1).split('\n').map((l) => l.trim()).filter(Boolean));
  }

  /**
   * Every valid record, oldest first, read in chunks: memory stays constant whatever the
   * session's size (the `session` command). A missing file yields nothing.
   */
  async *stream(sessionId: string): AsyncGenerator<SessionRecord> {
    const path = this.pathFor(sessionId);
    let end: number;
    try {
      end = statSync(path).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (end === 0) return;
    let carry = '';
    for await (const chunk of createReadStream(path, { encoding: 'utf8', end: end - 1, highWaterMark: 256 * 1024 })) {
      const text = carry + (chunk as string);
      const last = text.lastIndexOf('\n');
      if (last === -1) {
        carry = text;
        continue;
      }
      carry = text.slice(last + 1);
      const lines = text.slice(0, last).split('\n').map((l) => l.trim()).filter(Boolean);
      for (const r of this.parse(path, lines)) yield r;
    }
    // `carry` is a last line without its newline: still being written, not there yet.
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
    return this.countAt(sessionId, path, size);
  }

  /** count() for a file of `size` bytes (just stat'ed). */
  private countAt(sessionId: string, path: string, size: number): number {
    const idxPath = join(this.dir, '.index', `${sanitizeSessionId(sessionId)}.json`);
    let base = this.counts.get(path) ?? readIndex(idxPath);
    if (!base || base.size > size) base = { size: 0, lines: 0 };
    if (base.size === size) return base.lines;
    // Counted in bulk up to the end of the last complete line (a line still being written
    // counts once it is finished).
    const delta = countLines(path, base.size);
    const total = { size: delta.size, lines: base.lines + delta.lines };
    this.counts.set(path, total);
    if (delta.size - base.size > 256 * 1024) {
      try {
        mkdirSync(join(this.dir, '.index'), { recursive: true });
        writeJsonAtomic(idxPath, total, { fsync: false });
      } catch {
        // Only a cache.
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
