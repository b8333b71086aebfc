// The last records of recently used sessions, kept parsed in memory so that a turn's history
// read costs one stat instead of open/read/close and a JSON parse per line. An entry is valid
// only while the file is exactly as we last saw it (same inode, same size): any other writer
// (a CLI turn beside `serve`, an operator's edit, a replaced file) changes one of them and the
// next read goes to the disk again. A cache only: correctness never depends on it.
import type { SessionRecord } from './session-store.js';

/** Records kept per session at most (a turn asks for ~30). */
const KEEP = 256;
/** Sessions kept at most (least recently used dropped first). */
const SESSIONS = 128;

/** What a stat of the file says; the cache answers only while all three are unchanged. */
export interface FileStamp {
  ino: number;
  size: number;
  mtimeMs: number;
}

interface Entry {
  ino: number;
  size: number;
  /** Unknown (NaN) right after our own append: taken from the next stat of that size. */
  mtimeMs: number;
  records: SessionRecord[];
  /** True when `records` holds every valid record of the file. */
  whole: boolean;
}

export class RecentRecords {
  private readonly entries = new Map<string, Entry>();

  /** The last `max` records if the cache can answer for the file as it is now, else undefined. */
  get(path: string, st: FileStamp, max: number): SessionRecord[] | undefined {
    const e = this.entries.get(path);
    if (!e) return undefined;
    if (e.ino !== st.ino || e.size !== st.size || (e.mtimeMs === e.mtimeMs && e.mtimeMs !== st.mtimeMs)) {
      this.entries.delete(path);
      return undefined;
    }
    e.mtimeMs = st.mtimeMs;
    if (!e.whole && e.records.length < max) return undefined;
    this.entries.delete(path);
    this.entries.set(path, e); // most recently used last
    // Copies: a caller may change what it gets without changing the cache.
    return e.records.slice(-max).map((r) => ({ ...r }));
  }

  /** Remembers what a read from the disk found (`whole`: the read reached the file's start). */
  set(path: string, st: FileStamp, records: SessionRecord[], whole: boolean): void {
    this.entries.delete(path);
    this.entries.set(path, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, records: records.map((r) => ({ ...r })), whole });
    this.trim(path);
  }

  /**
   * Records we appended ourselves, as the bytes [before, after) of the file. Kept only when the
   * cache held the file up to `before`; otherwise the entry is dropped (someone else wrote).
   */
  appended(path: string, ino: number, before: number, after: number, lines: string): void {
    const e = this.entries.get(path);
    if (!e) return;
    if (e.ino !== ino || e.size !== before || before < 0) {
      this.entries.delete(path);
      return;
    }
    // Parsed back from the very bytes written, so the cache holds what a reader of the file gets.
    for (const line of lines.split('\n')) if (line) e.records.push(JSON.parse(line) as SessionRecord);
    e.size = after;
    e.mtimeMs = NaN;
    if (e.records.length > KEEP) {
      e.records.splice(0, e.records.length - KEEP);
      e.whole = false;
    }
  }

  forget(path: string): void {
    this.entries.delete(path);
  }

  private trim(path: string): void {
    const e = this.entries.get(path);
    if (e && e.records.length > KEEP) {
      e.records.splice(0, e.records.length - KEEP);
      e.whole = false;
    }
    for (const key of this.entries.keys()) {
      if (this.entries.size <= SESSIONS) break;
      this.entries.delete(key);
    }
  }
}
