// Append-only JSON Lines files: whole-line appends (one write per batch, so concurrent writers
// never interleave inside a line), group commit of the disk flush, and readers that count and
// read from the end without ever seeing a line that is still being written.
import { closeSync, fdatasync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Appends one JSON value as a line. `fsync` makes it survive a power cut (default true). */
export function appendJsonLine(path: string, value: unknown, options: { fsync?: boolean } = {}): void {
  appendLines(path, [value], options);
}

/** Appends several values in one write (one fsync). Returns the file size before and after. */
export function appendLines(path: string, values: unknown[], options: { fsync?: boolean } = {}): { before: number; after: number } {
  if (values.length === 0) return { before: -1, after: -1 };
  const file = new AppendFile(path);
  try {
    const r = file.append(encodeLines(values));
    if (options.fsync !== false) fsyncSync(file.fd);
    return r;
  } finally {
    file.close();
  }
}

/** Values as JSON lines, each ending in `\n`. */
export function encodeLines(values: unknown[]): string {
  let text = '';
  for (const v of values) text += JSON.stringify(v) + '\n';
  return text;
}

/**
 * An append-only file kept open, with group commit: `append` writes whole lines at once (a
 * crash of this process cannot lose them), `flush` resolves once everything appended so far is
 * on disk. Appends made while a flush is running share the next one, and a flush asked for in
 * the same tick as later appends starts after them, so concurrent turns pay for one fdatasync.
 */
export class AppendFile {
  readonly fd: number;
  readonly ino: number;
  /** End of file after our last append; -1 when unknown (someone else may have appended). */
  private end: number;
  private written = 0;
  private synced = 0;
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private closed = false;

  constructor(readonly path: string) {
    let fd: number;
    try {
      fd = openSync(path, 'a+', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      mkdirSync(dirname(path), { recursive: true });
      fd = openSync(path, 'a+', 0o600);
    }
    this.fd = fd;
    const st = fstatSync(fd);
    this.ino = st.ino;
    this.end = -1;
  }

  /**
   * Appends `text` (whole lines) in one write. Returns the file size before and after.
   * `size`: the file's current size when the caller has just stat'ed it (saves an fstat).
   */
  append(text: string, known?: number): { before: number; after: number } {
    if (this.closed) throw new Error(`append to closed file ${this.path}`);
    let size = known ?? fstatSync(this.fd).size;
    // A torn last line (a crash mid-write, long ago) gets a newline first so the damage stays
    // confined to that line. Checked only when someone else wrote since our last append. A line
    // without its newline may also be another writer's, still being copied in (a long line
    // spans pages): that one completes within microseconds, a tear never does.
    let prefix = '';
    if (size > 0 && size !== this.end && !endsWithNewline(this.fd, size)) {
      prefix = '\n';
      for (let i = 0; i < 20; i++) {
        Atomics.wait(PAUSE, 0, 0, 1);
        size = fstatSync(this.fd).size;
        if (endsWithNewline(this.fd, size)) {
          prefix = '';
          break;
        }
      }
    }
    const bytes = Buffer.from(prefix + text);
    writeSync(this.fd, bytes);
    this.written++;
    this.end = size + bytes.length;
    return { before: prefix ? -1 : size, after: this.end };
  }

  /**
   * Resolves when every append made before this call is on disk. `now`: start the fdatasync at
   * once when none is running (the caller has gathered this loop turn's appends already).
   */
  flush(now = false): Promise<void> {
    if (this.synced >= this.written) return Promise.resolve();
    // Never an fdatasync of a closed descriptor: its number may belong to another file by now.
    if (this.closed) return Promise.reject(new Error(`flush of closed file ${this.path} with unflushed appends`));
    if (now && !this.running && !this.next) return this.sync();
    // Join the flush that starts after the running one (or next tick): it covers this append.
    this.next ??= (this.running ?? new Promise<void>((resolve) => setImmediate(resolve))).then(
      () => this.sync(),
      () => this.sync(),
    );
    return this.next;
  }

  private sync(): Promise<void> {
    this.next = undefined;
    const covers = this.written;
    const running = new Promise<void>((resolve, reject) => fdatasync(this.fd, (err) => (err ? reject(err) : resolve()))).then(
      () => {
        if (this.running === running) this.running = undefined;
        if (covers > this.synced) this.synced = covers;
      },
      (err: unknown) => {
        if (this.running === running) this.running = undefined;
        throw err;
      },
    );
    this.running = running;
    return running;
  }

  /** True while an fdatasync is running (a write now would wait for it in the kernel). */
  get syncing(): boolean {
    return this.running !== undefined;
  }

  /** Resolves when the running fdatasync (if any) ends, however it ends. */
  whenSynced(): Promise<void> {
    return this.running ? this.running.then(() => undefined, () => undefined) : Promise.resolve();
  }

  /** True while some append is not known to be on disk yet. */
  get dirty(): boolean {
    return this.synced < this.written;
  }

  /** True while a flush is running or waiting. */
  get busy(): boolean {
    return this.running !== undefined || this.next !== undefined;
  }

  /**
   * Closes the file; at once, or after the flushes already asked for (they hold the descriptor:
   * closing under them would fdatasync a number the kernel may have given to another file).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeWhenIdle();
  }

  private closeWhenIdle(): void {
    const pending = this.next ?? this.running;
    if (!pending) return closeSync(this.fd);
    void pending.then(
      () => this.closeWhenIdle(),
      () => this.closeWhenIdle(),
    );
  }
}

/**
 * Append whose fdatasync runs on libuv's pool. Opens and closes the file; the session store
 * keeps files open instead (see SessionStore).
 */
export async function appendLinesAsync(path: string, values: unknown[], options: { fsync?: boolean } = {}): Promise<{ before: number; after: number }> {
  if (values.length === 0) return { before: -1, after: -1 };
  const file = new AppendFile(path);
  try {
    const r = file.append(encodeLines(values));
    if (options.fsync !== false) await file.flush();
    return r;
  } finally {
    file.close();
  }
}

/** For a 1 ms synchronous pause (Atomics.wait on a private buffer). */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

function endsWithNewline(fd: number, size: number): boolean {
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, size - 1);
  return b[0] === 0x0a;
}

const CHUNK = 64 * 1024;
const FIRST_CHUNK = 8 * 1024;

/**
 * Returns up to `max` last non-blank lines of the file (oldest first) by reading backwards in
 * chunks. A missing file gives []. A last line without its newline is still being written (or
 * was torn by a crash): it is not there yet, silently. The work is proportional to the lines
 * returned.
 */
export function readLastLines(path: string, max: number): string[] {
  return readTail(path, max).lines;
}

/**
 * readLastLines with what was read: the file's inode and size at the time, and `whole` when
 * the lines are every line of the file (fewer than `max`).
 */
export function readTail(path: string, max: number): { lines: string[]; ino: number; size: number; mtimeMs: number; whole: boolean } {
  if (max <= 0) return { lines: [], ino: -1, size: -1, mtimeMs: NaN, whole: false };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], ino: -1, size: -1, mtimeMs: NaN, whole: false };
    throw err;
  }
  try {
    const st = fstatSync(fd);
    let pos = st.size;
    let carry: Buffer = Buffer.alloc(0);
    const lines: string[] = [];
    let complete = false; // true once the end of the last complete line is found
    // Start small (a turn needs ~20 short lines), grow for long lines or large windows.
    let chunk = FIRST_CHUNK;
    while (pos > 0 && lines.length < max) {
      const len = Math.min(chunk, pos);
      chunk = Math.min(CHUNK, chunk * 2);
      pos -= len;
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, pos);
      const data: Buffer = carry.length ? Buffer.concat([buf, carry]) : buf;
      let end = data.length;
      for (let i = data.length - 1; i >= 0 && lines.length < max; i--) {
        if (data[i] === 0x0a) {
          if (complete) pushLine(lines, data.subarray(i + 1, end));
          complete = true;
          end = i;
        }
      }
      carry = Buffer.from(data.subarray(0, end));
    }
    if (pos === 0 && complete && carry.length && lines.length < max) pushLine(lines, carry);
    return { lines: lines.reverse(), ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, whole: lines.length < max };
  } finally {
    closeSync(fd);
  }
}

function pushLine(lines: string[], bytes: Buffer): void {
  const text = bytes.toString('utf8').trim();
  if (text) lines.push(text);
}

/** Current size and inode of `path` (undefined when missing). */
export function fileId(path: string): { size: number; ino: number } | undefined {
  try {
    const st = statSync(path);
    return { size: st.size, ino: st.ino };
  } catch {
    return undefined;
  }
}
