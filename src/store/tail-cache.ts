// The last records of recently used sessions, kept parsed in memory so that a turn's history
// read costs one stat instead of open/read/close and a JSON parse per line. An entry is valid
// only while the file is exactly as we last saw it (same inode, size and mtime): any other
// writer (a CLI turn beside `serve`, an operator's edit, a replaced file) changes one of them
// and the next read goes to the disk again. A cache only: correctness never depends on it.

/** Records kept per session at least (a turn asks for ~20–50); more when a caller asks for more. */
const KEEP = 64;
/** All entries together stay under this many characters of content (a Pi has little memory). */
const BUDGET = 4 * 1024 * 1024;
/** Accounted per record on top of its content (role, timestamp, ids, the object itself). */
const OVERHEAD = 128;

/** What a stat of the file says; the cache answers only while all three are unchanged. */
export interface FileStamp {
  ino: number;
  size: number;
  mtimeMs: number;
}

interface Entry<R> {
  ino: number;
  size: number;
  /** Unknown (NaN) right after our own append: taken from the next stat of that size. */
  mtimeMs: number;
  records: R[];
  /** True when `records` holds every valid record of the file. */
  whole: boolean;
  /** Records kept at most for this session. */
  keep: number;
  cost: number;
}

/** Records are parsed JSON objects (session records: `content` is what weighs). */
export class TailCache<R extends object> {
  private readonly entries = new Map<string, Entry<R>>();
  private cost = 0;

  /** The last `max` records if the cache can answer for the file as it is now, else undefined. */
  get(path: string, st: FileStamp, max: number): R[] | undefined {
    const e = this.entries.get(path);
    if (!e) return undefined;
    if (e.ino !== st.ino || e.size !== st.size || (e.mtimeMs === e.mtimeMs && e.mtimeMs !== st.mtimeMs)) {
      this.forget(path);
      return undefined;
    }
    e.mtimeMs = st.mtimeMs;
    if (!e.whole && e.records.length < max) {
      e.keep = Math.max(e.keep, max + 8); // the read that follows keeps enough next time
      return undefined;
    }
    this.entries.delete(path);
    this.entries.set(path, e); // most recently used last
    // Copies: a caller may change what it gets without changing the cache.
    return e.records.slice(-max).map((r) => ({ ...r }));
  }

  /** Remembers what a read from the disk found (`whole`: the read reached the file's start). */
  set(path: string, st: FileStamp, records: R[], whole: boolean): void {
    const keep = Math.max(KEEP, this.entries.get(path)?.keep ?? 0);
    this.forget(path);
    const e: Entry<R> = { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, records: records.map((r) => ({ ...r })), whole, keep, cost: 0 };
    e.cost = e.records.reduce((n, r) => n + recordCost(r), 0);
    this.cost += e.cost;
    this.entries.set(path, e);
    this.trim(e);
  }

  /**
   * Records we appended ourselves, as the bytes [before, after) of the file. Kept only when the
   * cache held the file up to `before`; otherwise the entry is dropped (someone else wrote).
   */
  appended(path: string, ino: number, before: number, after: number, lines: string): void {
    const e = this.entries.get(path);
    if (!e) return;
    if (e.ino !== ino || e.size !== before || before < 0) {
      this.forget(path);
      return;
    }
    // Parsed back from the very bytes written, so the cache holds what a reader of the file gets.
    for (const line of lines.split('\n')) {
      if (!line) continue;
      const r = JSON.parse(line) as R;
      e.records.push(r);
      e.cost += recordCost(r);
      this.cost += recordCost(r);
    }
    e.size = after;
    e.mtimeMs = NaN;
    this.trim(e);
  }

  forget(path: string): void {
    const e = this.entries.get(path);
    if (!e) return;
    this.cost -= e.cost;
    this.entries.delete(path);
  }

  /** Characters accounted for (tests). */
  get accounted(): number {
    return this.cost;
  }

  /** Drops `e`'s oldest records beyond its share, then whole sessions, least recently used first. */
  private trim(e: Entry<R>): void {
    if (e.records.length > e.keep) {
      for (const r of e.records.splice(0, e.records.length - e.keep)) {
        e.cost -= recordCost(r);
        this.cost -= recordCost(r);
      }
      e.whole = false;
    }
    for (const [path] of this.entries) {
      if (this.cost <= BUDGET) break;
      this.forget(path);
    }
  }
}

function recordCost(r: object): number {
  const content = (r as { content?: unknown }).content;
  return (typeof content === 'string' ? content.length : 0) + OVERHEAD;
}
