// The Telegram update journal under the data dir: the next getUpdates offset and the updates
// received but not yet handled, so a restart or crash neither skips a message nor loses one.
//
// Two files: `telegram-offset.json`, a snapshot (the version 1 format, unchanged), and
// `telegram-offset.log`, an append-only log of what changed since: one short line per received
// update, offset move and handled update. Per message only those lines are written (a few
// hundred bytes) and their fdatasyncs are group-committed; now and then (and on a clean stop)
// the log is folded into a fresh snapshot and emptied. Replaying the log is idempotent, so a
// crash at any point of a compaction is harmless.
import { join } from 'node:path';
import { existsSync, readFileSync, truncateSync } from 'node:fs';
import { emitWarning } from '../observe/index.js';
import { AppendFile, encodeLines, readJsonFile, writeFileAtomic } from '../store/index.js';
import type { ChannelMessage } from './types.js';

export interface JournalState {
  /** Next offset for getUpdates: every update below it was received (and is handled or pending). */
  offset: number;
  /** Received, not yet handled, by update_id (re-dispatched on start). */
  pending: Map<number, ChannelMessage>;
}

interface JournalFile {
  version: 1;
  bot_id: string;
  offset: number;
  pending: Array<{ update_id: number; message: ChannelMessage }>;
  updated_at: string;
}

/** One log line: header, received update, offset move, or handled update. */
type LogLine = { bot: string } | { u: number; m: ChannelMessage } | { o: number } | { d: number };

/** Log size that triggers folding it into the snapshot (~12,000 messages): compaction is a
 * synchronous snapshot write, so it is rare; replaying a log this size at start takes ~20 ms. */
const COMPACT_BYTES = 4 * 1024 * 1024;

function validMessage(m: unknown): m is ChannelMessage {
  const v = m as Partial<ChannelMessage> | null;
  return !!v && typeof v === 'object' && typeof v.chatId === 'string' && typeof v.senderId === 'string' && typeof v.text === 'string' && typeof v.channel === 'string';
}

const validId = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

function validate(value: unknown): JournalFile {
  const v = value as Partial<JournalFile> | null;
  if (!v || typeof v !== 'object' || v.version !== 1) throw new Error('not a telegram offset file (version 1)');
  if (typeof v.bot_id !== 'string' || !validId(v.offset)) throw new Error('bad bot_id or offset');
  if (!Array.isArray(v.pending)) throw new Error('bad pending list');
  for (const p of v.pending) {
    if (!p || !validId(p.update_id) || !validMessage(p.message)) throw new Error('bad pending entry');
  }
  return v as JournalFile;
}

export class TelegramJournal {
  /** The snapshot. */
  readonly path: string;
  /** The append-only log of changes since the snapshot. */
  readonly logPath: string;
  private log: AppendFile | undefined;
  private botId = '';
  private logBytes = 0;
  /** Handled ids held while the log's fdatasync runs (see handled()). */
  private handledIds: number[] = [];
  private handledWrite: Promise<void> | undefined;

  private readonly compactBytes: number;

  constructor(dataDir: string, options: { compactBytes?: number } = {}) {
    this.compactBytes = options.compactBytes ?? COMPACT_BYTES;
    this.path = join(dataDir, 'channels', 'telegram-offset.json');
    this.logPath = join(dataDir, 'channels', 'telegram-offset.log');
  }

  /** State for `botId`: snapshot plus log. A missing, corrupt (moved aside) or other bot's snapshot starts fresh. */
  load(botId: string): JournalState {
    this.botId = botId;
    const state: JournalState = { offset: 0, pending: new Map() };
    const r = readJsonFile<JournalFile>(this.path, 'telegram offset', validate);
    if (r.state === 'ok') {
      if (r.value.bot_id !== botId) {
        emitWarning('telegram offset file belongs to another bot; starting from the server offset', { path: this.path });
        this.dropLog();
        return state;
      }
      state.offset = r.value.offset;
      for (const p of r.value.pending) state.pending.set(p.update_id, p.message);
    }
    this.replay(botId, state);
    return state;
  }

  /** Applies the log's lines to `state` (each one idempotent; a partial last line is not there yet). */
  private replay(botId: string, state: JournalState): void {
    let text: string;
    try {
      text = readFileSync(this.logPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const lines = text.slice(0, text.lastIndexOf('\n') + 1).split('\n');
    let bad = 0;
    let ours = false;
    for (const line of lines) {
      if (!line.trim()) continue;
      let v: Record<string, unknown>;
      try {
        v = JSON.parse(line) as Record<string, unknown>;
      } catch {
        bad++;
        continue;
      }
      if (typeof v.bot === 'string') {
        ours = v.bot === botId;
        continue;
      }
      if (!ours) continue;
      if (validId(v.u) && validMessage(v.m)) {
        state.pending.set(v.u, v.m);
        state.offset = Math.max(state.offset, v.u + 1);
      } else if (validId(v.o)) state.offset = Math.max(state.offset, v.o);
      else if (validId(v.d)) state.pending.delete(v.d);
      else bad++;
    }
    // The log is in write order, so the state is exact. Corrupt lines are reported, never fatal.
    if (bad > 0) emitWarning('telegram journal log has unreadable lines; they were skipped', { path: this.logPath, lines: bad });
  }

  /**
   * Records received updates and the new offset. Resolves once they are on disk: only then may
   * they be dispatched and the offset confirmed to Telegram.
   */
  received(fresh: Array<[number, ChannelMessage]>, offset: number): Promise<void> {
    const lines: LogLine[] = fresh.map(([u, m]) => ({ u, m }));
    const last = fresh.length ? fresh[fresh.length - 1]![0] + 1 : -1;
    if (offset !== last) lines.push({ o: offset });
    return this.write(lines);
  }

  /**
   * Records that an update was handled. The flush is group-committed; losing it only replays.
   * While the log's fdatasync runs, a write() would wait for it in the kernel, blocking the event
   * loop: the ids are held instead and written together the moment it ends (the same time the
   * blocked write would have landed, so the crash window is unchanged).
   */
  handled(id: number): Promise<void> {
    if (!this.log?.syncing) return this.write([{ d: id }]);
    this.handledIds.push(id);
    return (this.handledWrite ??= this.writeHeld());
  }

  private async writeHeld(): Promise<void> {
    await this.log?.whenSynced(); // once: under constant load another may follow at once
    const ids = this.handledIds;
    this.handledIds = [];
    this.handledWrite = undefined;
    if (ids.length > 0) await this.write(ids.map((d) => ({ d })));
  }

  /** Whether the log has grown enough to be folded into the snapshot. */
  get wantsCompaction(): boolean {
    return this.logBytes >= this.compactBytes;
  }

  /** Writes `state` as the snapshot and empties the log. */
  compact(state: JournalState): void {
    if (!this.botId) return;
    const file: JournalFile = {
      version: 1,
      bot_id: this.botId,
      offset: state.offset,
      pending: [...state.pending].sort(([a], [b]) => a - b).map(([update_id, message]) => ({ update_id, message })),
      updated_at: new Date().toISOString(),
    };
    writeFileAtomic(this.path, JSON.stringify(file) + '\n', { mode: 0o600 });
    this.handledIds = []; // the snapshot has them (they left `pending`)
    this.dropLog();
  }

  /** Same as compact(): the whole state, durably (kept for callers of the first journal). */
  save(botId: string, state: JournalState): void {
    this.botId = botId;
    this.compact(state);
  }

  /** Closes the log (after its last flush). */
  async close(): Promise<void> {
    await this.handledWrite?.catch(() => undefined);
    const log = this.log;
    this.log = undefined;
    if (!log) return;
    await log.flush().catch(() => undefined);
    log.close();
  }

  private write(lines: LogLine[]): Promise<void> {
    if (!this.botId) return Promise.resolve();
    if (!this.log) {
      this.log = new AppendFile(this.logPath);
      const header = encodeLines([{ bot: this.botId }]);
      const { after } = this.log.append(header);
      this.logBytes = after;
    }
    const { after } = this.log.append(encodeLines(lines));
    this.logBytes = after;
    return this.log.flush();
  }

  private dropLog(): void {
    const log = this.log;
    this.log = undefined;
    this.logBytes = 0;
    if (log) {
      // Pending flushes still run on the old descriptor; close after them.
      if (log.busy) void log.flush().then(() => log.close(), () => log.close());
      else log.close();
    }
    if (existsSync(this.logPath)) truncateSync(this.logPath, 0);
  }
}
