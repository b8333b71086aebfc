// The last records of each busy session, kept in memory between turns. Every channel turn reads
// its session's tail twice over (the replay check by message id, then the history window): an
// open, a read, ~50 JSON.parse and a close per message, a fifth of `serve`'s CPU under load
// (bench/soak.bench.ts). Here that read happens once per session; our own appends extend the
// copy. The copy is trusted only while the session's line count (SessionStore.count, one stat) is
// exactly what we last saw plus our own appends: any other writer (another process, a late answer
// written elsewhere, a torn line repaired, a truncation) changes the count and the tail is read
// again from the file. Bounded by sessions and by bytes, least recently used first out.
import type { SessionRecord, SessionStore } from '../store/index.js';
import { isReplayable } from './records.js';

interface Entry {
  /** Lines in the file when `records` was its tail. */
  lines: number;
  /** The last `window` valid records, oldest first (as SessionStore.tail returns them). */
  records: SessionRecord[];
  bytes: number;
  /** Platform message ids of the user records in `records` (and perhaps a few just cut off). */
  ids: Set<string>;
  /** The replayable records among `records` (replayableRecords(records)), kept as it changes. */
  plain: SessionRecord[];
}

function userIds(records: SessionRecord[], into = new Set<string>()): Set<string> {
  for (const r of records) if (r.role === 'user' && typeof r.message_id === 'string') into.add(r.message_id);
  return into;
}

export interface RecentRecordsOptions {
  /** Records kept per session (the caller's tail size). */
  window: number;
  /** Sessions kept. Default 512. */
  maxSessions?: number;
  /** Approximate bytes of record content kept over all sessions. Default 4 MiB. */
  maxBytes?: number;
}

const recordBytes = (r: SessionRecord): number => 96 + r.content.length * 2;

export class RecentRecords {
  private readonly entries = new Map<string, Entry>();
  private readonly window: number;
  private readonly maxSessions: number;
  private readonly maxBytes: number;
  private bytes = 0;

  constructor(
    private readonly sessions: SessionStore,
    options: RecentRecordsOptions,
  ) {
    this.window = options.window;
    this.maxSessions = options.maxSessions ?? 512;
    this.maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  }

  /**
   * The session's last `window` records and its line count; `hasMessage` false means no user
   * record among them carries that platform message id (no scan needed). Shared: never mutate.
   */
  read(sessionId: string): { records: SessionRecord[]; plain: SessionRecord[]; total: number; hasMessage: (messageId: string) => boolean } {
    const total = this.sessions.count(sessionId);
    const hit = this.entries.get(sessionId);
    if (hit && hit.lines === total) {
      // Most recently used last.
      this.entries.delete(sessionId);
      this.entries.set(sessionId, hit);
      return { records: hit.records, plain: hit.plain, total, hasMessage: (id) => hit.ids.has(id) };
    }
    this.drop(sessionId);
    const records = this.sessions.tail(sessionId, this.window);
    const e: Entry = { lines: total, records, bytes: records.reduce((n, r) => n + recordBytes(r), 0), ids: userIds(records), plain: records.filter(isReplayable) };
    this.put(sessionId, e);
    return { records, plain: e.plain, total, hasMessage: (id) => e.ids.has(id) };
  }

  /** Appends durably (resolves once on disk), keeping the copy current. */
  async append(sessionId: string, ...records: SessionRecord[]): Promise<void> {
    await this.appendDeferred(sessionId, ...records);
  }

  /** SessionStore.appendDeferred, keeping the copy current (the write itself is synchronous). */
  appendDeferred(sessionId: string, ...records: SessionRecord[]): Promise<void> {
    let flushed: Promise<void>;
    try {
      flushed = this.sessions.appendDeferred(sessionId, ...records);
    } catch (err) {
      this.drop(sessionId);
      throw err;
    }
    const e = this.entries.get(sessionId);
    if (e && records.length > 0) {
      const before = e.bytes;
      const next = e.records.concat(records);
      const cut = Math.max(0, next.length - this.window);
      let cutPlain = 0;
      for (let i = 0; i < cut; i++) {
        e.bytes -= recordBytes(next[i]!);
        if (isReplayable(next[i]!)) cutPlain++;
      }
      e.plain = e.plain.slice(cutPlain).concat(records.filter(isReplayable));
      for (const r of records) e.bytes += recordBytes(r);
      this.bytes += e.bytes - before;
      e.records = cut ? next.slice(cut) : next;
      // Ids of records cut off linger (a scan that finds nothing) until the set is rebuilt.
      e.ids = e.ids.size > 2 * this.window ? userIds(e.records) : userIds(records, e.ids);
      e.lines += records.length;
      this.evict();
    }
    return flushed;
  }

  /** Forgets every copy (tests, memory pressure). */
  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  /** Sessions held (metrics, tests). */
  get size(): number {
    return this.entries.size;
  }

  private put(sessionId: string, e: Entry): void {
    this.entries.set(sessionId, e);
    this.bytes += e.bytes;
    this.evict();
  }

  private drop(sessionId: string): void {
    const e = this.entries.get(sessionId);
    if (!e) return;
    this.entries.delete(sessionId);
    this.bytes -= e.bytes;
  }

  private evict(): void {
    for (const [id, e] of this.entries) {
      if (this.entries.size <= this.maxSessions && this.bytes <= this.maxBytes) return;
      this.entries.delete(id);
      this.bytes -= e.bytes;
    }
  }
}
