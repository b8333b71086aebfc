// The last records of recently used sessions, kept parsed in memory so that a turn's history
// read and its replay check cost one stat instead of open/read/close and a JSON parse per line.
// An entry is valid only while the file is exactly as we last saw it (same inode, size and
// mtime): any other writer (a CLI turn beside `serve`, another SessionStore, an operator's edit,
// a replaced or truncated file, a torn line repaired) changes one of them and the next read goes
// to the disk again. Our own appends extend the entry, as a reader would parse the bytes written.
// Records are deep-frozen and shared with callers (no copy per turn). One per session file: the
// runtime's history window and replay check use it through SessionStore.recent. A cache only:
// correctness never depends on it.

/** Records kept per session at least (a turn reads 48 by default); more when a read asks for more. */
const KEEP = 48;
/** Records past `keep` before the oldest are cut, in one go (not one splice per append). */
const SLACK = 16;
/** All entries together stay under this many characters of content (a Pi has little memory). */
const BUDGET = 4 * 1024 * 1024;
/** And under this many sessions (each holds its records, an id map and a few numbers). */
const MAX_ENTRIES = 512;
/** Accounted per record on top of its content (role, timestamp, ids, the object itself). */
const OVERHEAD = 128;

/** What a stat of the file says; the cache answers only while all three are unchanged. */
export interface FileStamp {
  ino: number;
  size: number;
  mtimeMs: number;
}

/** A session's last records, oldest first, as the file holds them now. */
export interface TailView<R> {
  /** Frozen records shared with the cache: read them, never change them. */
  readonly records: readonly R[];
  /** Index in `records` of the last record whose key (a user record's message id) is `key`, or -1. */
  indexOfKey(key: string): number;
}

/** What a read from the disk found (`whole`: every record of the file; size < 0: no file). */
export interface TailRead<R> extends FileStamp {
  records: R[];
  whole: boolean;
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
  /** Position of records[0] among the records this entry ever held (grows as the front is cut). */
  first: number;
  /** Each key's last position. Keys cut off the front linger until the map is rebuilt. */
  keys: Map<string, number>;
}

const EMPTY: TailView<never> = { records: Object.freeze([]), indexOfKey: () => -1 };

export class TailCache<R extends object> {
  private readonly entries = new Map<string, Entry<R>>();
  private cost = 0;

  /** `keyOf`: the lookup key of a record (the platform message id of a user record), if any. */
  constructor(private readonly keyOf: (r: R) => string | undefined) {}

  /**
   * The last `max` records of the file as `st` describes it: from memory when the entry is
   * current and deep enough, else from `read(n)` (the last n lines of the disk), remembered.
   */
  view(path: string, st: FileStamp, max: number, read: (n: number) => TailRead<R>): TailView<R> {
    if (max <= 0) return EMPTY;
    let e = this.entries.get(path);
    const keep = Math.max(KEEP, max, e?.keep ?? 0);
    const stale = e && (e.ino !== st.ino || e.size !== st.size || (e.mtimeMs === e.mtimeMs && e.mtimeMs !== st.mtimeMs));
    if (e && !stale && (e.whole || e.records.length >= max)) {
      e.mtimeMs = st.mtimeMs;
      this.entries.delete(path);
      this.entries.set(path, e); // most recently used last
    } else {
      this.forget(path);
      const got = read(keep + 8); // a few more: corrupt lines do not shrink the window
      if (got.size < 0) return EMPTY;
      e = this.remember(path, got, keep);
    }
    const records = e.records.length > max ? e.records.slice(-max) : e.records.slice();
    const start = e.first + e.records.length - records.length;
    const keys = e.keys; // only ever added to (a rebuild makes a new map), so it covers `records`
    return {
      records,
      indexOfKey: (key) => {
        const at = keys.get(key);
        if (at === undefined) return -1;
        const i = at - start;
        if (i >= 0 && i < records.length && this.keyOf(records[i]!) === key) return i;
        if (i < 0) return -1; // cut off the front of this view
        for (let j = records.length - 1; j >= 0; j--) if (this.keyOf(records[j]!) === key) return j;
        return -1; // the key's last position moved past this view (an append since)
      },
    };
  }

  /**
   * Records we appended ourselves, as the bytes [before, after) of the file (each written as
   * JSON.stringify(record)). Kept, as a reader of the file would parse them, only when the cache
   * held the file up to `before` (or the file was new); otherwise the entry is dropped.
   */
  appended(path: string, ino: number, before: number, after: number, records: readonly R[]): void {
    let e = this.entries.get(path);
    if (!e && before === 0) e = this.remember(path, { ino, size: 0, mtimeMs: NaN, records: [], whole: true }, KEEP);
    if (!e) return;
    if (e.ino !== ino || e.size !== before || before < 0) {
      this.forget(path);
      return;
    }
    for (const r of records) this.push(e, (plainCopy(r) ?? freeze(JSON.parse(JSON.stringify(r)))) as R);
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

  /** Sessions held (tests). */
  get size(): number {
    return this.entries.size;
  }

  private remember(path: string, got: TailRead<R>, keep: number): Entry<R> {
    this.forget(path);
    const e: Entry<R> = { ino: got.ino, size: got.size, mtimeMs: got.mtimeMs, records: [], whole: got.whole, keep, cost: 0, first: 0, keys: new Map() };
    this.entries.set(path, e);
    for (const r of got.records) this.push(e, freeze(r));
    this.trim(e);
    return e;
  }

  private push(e: Entry<R>, r: R): void {
    const key = this.keyOf(r);
    if (key !== undefined) e.keys.set(key, e.first + e.records.length);
    e.records.push(r);
    e.cost += recordCost(r);
    this.cost += recordCost(r);
  }

  /** Drops `e`'s oldest records beyond its share, then whole sessions, least recently used first. */
  private trim(e: Entry<R>): void {
    if (e.records.length > e.keep + SLACK) {
      const cut = e.records.length - e.keep;
      for (const r of e.records.splice(0, cut)) {
        e.cost -= recordCost(r);
        this.cost -= recordCost(r);
      }
      e.first += cut;
      e.whole = false;
      if (e.keys.size > 2 * e.keep) {
        e.keys = new Map();
        e.records.forEach((r, i) => {
          const key = this.keyOf(r);
          if (key !== undefined) e.keys.set(key, e.first + i);
        });
      }
    }
    if (this.cost <= BUDGET && this.entries.size <= MAX_ENTRIES) return;
    for (const [path] of this.entries) {
      this.forget(path);
      if (this.cost <= BUDGET && this.entries.size <= MAX_ENTRIES) break;
    }
  }
}

function recordCost(r: object): number {
  const content = (r as { content?: unknown }).content;
  return (typeof content === 'string' ? content.length : 0) + OVERHEAD;
}

/**
 * A frozen copy of `r` equal to JSON.parse(JSON.stringify(r)), made without the round trip when
 * `r` is a plain object of JSON scalars (every record core builds: a third of the cost); else
 * undefined.
 */
function plainCopy(r: object): object | undefined {
  if (Object.getPrototypeOf(r) !== Object.prototype) return undefined;
  const out: Record<string, unknown> = {};
  for (const k in r) {
    if (k === '__proto__') return undefined; // an own key here would set `out`'s prototype
    const v = (r as Record<string, unknown>)[k];
    if (typeof v === 'string' || typeof v === 'boolean' || v === null || (typeof v === 'number' && Number.isFinite(v) && !Object.is(v, -0))) out[k] = v;
    else if (v !== undefined) return undefined; // JSON drops undefined; anything else takes the round trip
  }
  return Object.freeze(out);
}

/** Freezes a parsed JSON value and everything in it (callers share it: none may change it). */
function freeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k in v) freeze((v as Record<string, unknown>)[k]);
  }
  return v;
}
