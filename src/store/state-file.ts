// The one locked JSON state file: read, validate, modify, write atomically under a
// cross-process lock. A file that is not JSON or fails its schema is never coerced and
// overwritten: it is moved aside (`<file>.corrupt-<epoch ms>`) with a warning event, and the
// state is rebuilt from what still validates (the codec salvages entries) or from empty.
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { writeFileAtomicAsync, writeJsonAtomic } from './atomic-file.js';
import { tryWithFileLockSync, withFileLock, type LockOptions } from './lock.js';
import { emitEvent } from '../observe/index.js';

/** How a state file's JSON becomes typed state. */
export interface StateCodec<T> {
  /** What the file holds, for warnings: "codex state", "telemetry". */
  readonly what: string;
  /** Fresh state for a missing or unusable file. */
  empty(): T;
  /**
   * Validates parsed JSON. Throws when nothing is usable; otherwise returns the state and
   * pushes one line to `issues` for every part it had to drop or repair (a salvage).
   */
  decode(value: unknown, issues: string[]): T;
}

export interface StateFileOptions {
  /** File mode for new files (0o600 for files holding prompts or ids). */
  mode?: number;
  /** fsync the file and its directory on every write. Default true. */
  fsync?: boolean;
  /** update() writes with its file operations on libuv's pool (the event loop never waits for the fsyncs). */
  asyncWrite?: boolean;
  lock?: LockOptions;
}

type Loaded<T> = { kind: 'missing' | 'ok'; value: T } | { kind: 'bad'; value: T; problems: string[] };

export class JsonStateFile<T> {
  constructor(
    readonly path: string,
    private readonly codec: StateCodec<T>,
    private readonly options: StateFileOptions = {},
  ) {}

  /**
   * The state as on disk, without waiting for the lock (files are replaced atomically). A bad
   * file is repaired at once when the lock is free, else by the holder's next update.
   */
  read(): T {
    const first = this.load();
    if (first.kind !== 'bad') return first.value;
    let value = first.value;
    tryWithFileLockSync(this.path, () => {
      const again = this.load();
      if (again.kind === 'bad') this.repair(again);
      value = again.value;
    }, this.options.lock);
    return value;
  }

  /**
   * Locked read-modify-write: `fn` may change the state in place and says whether it did;
   * the file is written only then (or when it had to be repaired). The hooks run under the lock.
   */
  update<R>(fn: (state: T) => { result: R; changed: boolean }, options: { fsync?: boolean; beforeWrite?: (state: T) => void; afterWrite?: (state: T) => void } = {}): Promise<R> {
    return withFileLock(this.path, async () => {
      const loaded = this.load();
      if (loaded.kind === 'bad') this.moveAside(loaded.problems);
      const { result, changed } = fn(loaded.value);
      if (changed || loaded.kind === 'bad') {
        options.beforeWrite?.(loaded.value);
        if (this.options.asyncWrite) await this.writeAsync(loaded.value, options.fsync);
        else this.write(loaded.value, options.fsync);
        options.afterWrite?.(loaded.value);
      }
      return result;
    }, this.options.lock);
  }

  private load(): Loaded<T> {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing', value: this.codec.empty() };
      throw err;
    }
    const issues: string[] = [];
    try {
      const value = this.codec.decode(JSON.parse(text), issues);
      return issues.length ? { kind: 'bad', value, problems: issues } : { kind: 'ok', value };
    } catch (err) {
      return { kind: 'bad', value: this.codec.empty(), problems: [err instanceof Error ? err.message : String(err)] };
    }
  }

  private repair(bad: { value: T; problems: string[] }): void {
    this.moveAside(bad.problems);
    this.write(bad.value);
  }

  private moveAside(problems: string[]): void {
    // Never over an earlier backup (two repairs in one millisecond).
    let movedTo = `${this.path}.corrupt-${Date.now()}`;
    for (let n = 1; existsSync(movedTo); n++) movedTo = `${this.path}.corrupt-${Date.now()}-${n}`;
    try {
      renameSync(this.path, movedTo);
    } catch {
      // Gone already (another process repaired it): we rebuild either way.
    }
    emitEvent('warning', {
      message: `${this.codec.what} file is corrupt; moved aside and rebuilt`,
      path: this.path,
      moved_to: movedTo,
      error: problems[0],
      problems: problems.slice(0, 20),
    });
  }

  private writeAsync(value: T, fsync?: boolean): Promise<void> {
    return writeFileAtomicAsync(this.path, JSON.stringify(value, null, 2) + '\n', { fsync: fsync ?? this.options.fsync ?? true, ...(this.options.mode === undefined ? {} : { mode: this.options.mode }) });
  }

  private write(value: T, fsync?: boolean): void {
    writeJsonAtomic(this.path, value, { fsync: fsync ?? this.options.fsync ?? true, ...(this.options.mode === undefined ? {} : { mode: this.options.mode }) });
  }
}
