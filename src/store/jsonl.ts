// Append-only JSON Lines files: durable appends and reading the last N lines from the end of
// the file, so the cost of a read does not grow with the file.
import { closeSync, fdatasync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Appends one JSON value as a line. `fsync` makes it survive a power cut (default true). */
export function appendJsonLine(path: string, value: unknown, options: { fsync?: boolean } = {}): void {
  appendLines(path, [value], options);
}

/** Appends several values in one write (one fsync). Returns the file size before and after. */
export function appendLines(path: string, values: unknown[], options: { fsync?: boolean } = {}): { before: number; after: number } {
  if (values.length === 0) return { before: -1, after: -1 };
  mkdirSync(dirname(path), { recursive: true });
  const text = values.map((v) => JSON.stringify(v)).join('\n') + '\n';
  const fd = openSync(path, 'a+', 0o600);
  try {
    // A torn previous append may have left no trailing newline; start on a fresh line so the
    // damage stays confined to that one line.
    const size = fstatSync(fd).size;
    const prefix = size > 0 && !endsWithNewline(fd, size) ? '\n' : '';
    const bytes = Buffer.from(prefix + text);
    writeSync(fd, bytes);
    if (options.fsync !== false) fsyncSync(fd);
    return { before: prefix ? -1 : size, after: size + bytes.length };
  } finally {
    closeSync(fd);
  }
}

/**
 * Append whose fdatasync runs on libuv's pool, so a slow disk does not stall other sessions'
 * turns on the event loop. The open/stat/write syscalls stay synchronous: they are a few
 * microseconds each, cheaper than a thread-pool round trip apiece. Same torn-line repair as
 * appendLines.
 */
export async function appendLinesAsync(path: string, values: unknown[], options: { fsync?: boolean } = {}): Promise<{ before: number; after: number }> {
  const r = appendLinesDeferred(path, values, options);
  await r.synced;
  return r;
}

/**
 * Writes now and returns at once; `synced` resolves when the data is on disk (fdatasync). The
 * write itself survives a crash of this process; `synced` is what survives a power cut. Lets a
 * caller overlap the disk flush with other work (the provider call) and await it later.
 */
export function appendLinesDeferred(path: string, values: unknown[], options: { fsync?: boolean } = {}): { before: number; after: number; synced: Promise<void> } {
  if (values.length === 0) return { before: -1, after: -1, synced: Promise.resolve() };
  const text = values.map((v) => JSON.stringify(v)).join('\n') + '\n';
  let fd: number;
  try {
    fd = openSync(path, 'a+', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(dirname(path), { recursive: true });
    fd = openSync(path, 'a+', 0o600);
  }
  let size: number;
  let bytes: Buffer;
  let prefix: string;
  try {
    size = fstatSync(fd).size;
    prefix = size > 0 && !endsWithNewline(fd, size) ? '\n' : '';
    bytes = Buffer.from(prefix + text);
    writeSync(fd, bytes);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  const synced =
    options.fsync === false
      ? (closeSync(fd), Promise.resolve())
      : new Promise<void>((resolve, reject) =>
          fdatasync(fd, (err) => {
            closeSync(fd);
            if (err) reject(err);
            else resolve();
          }),
        );
  return { before: prefix ? -1 : size, after: size + bytes.length, synced };
}

function endsWithNewline(fd: number, size: number): boolean {
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, size - 1);
  return b[0] === 0x0a;
}

const CHUNK = 64 * 1024;
const FIRST_CHUNK = 8 * 1024;

/**
 * Returns up to `max` last non-blank lines of the file (oldest first) by reading backwards in
 * chunks. A missing file gives []. The work is proportional to the lines returned.
 */
export function readLastLines(path: string, max: number): string[] {
  if (max <= 0) return [];
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  try {
    let pos = fstatSync(fd).size;
    let carry: Buffer = Buffer.alloc(0);
    const lines: string[] = [];
    // Start small (a turn needs ~20 short lines), grow for long lines or large windows.
    let chunk = FIRST_CHUNK;
    while (pos > 0 && lines.length < max) {
      const len = Math.min(chunk, pos);
      chunk = Math.min(CHUNK, chunk * 2);
      pos -= len;
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, pos);
      let data: Buffer = carry.length ? Buffer.concat([buf, carry]) : buf;
      let end = data.length;
      for (let i = data.length - 1; i >= 0 && lines.length < max; i--) {
        if (data[i] === 0x0a) {
          pushLine(lines, data.subarray(i + 1, end));
          end = i;
        }
      }
      carry = Buffer.from(data.subarray(0, end));
      data = Buffer.alloc(0);
    }
    if (pos === 0 && carry.length && lines.length < max) pushLine(lines, carry);
    return lines.reverse();
  } finally {
    closeSync(fd);
  }
}

function pushLine(lines: string[], bytes: Buffer): void {
  const text = bytes.toString('utf8').trim();
  if (text) lines.push(text);
}

/** Counts newline-terminated and trailing lines in [from, size) — used to maintain counts incrementally. */
export function countLines(path: string, from = 0): { lines: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines: 0, size: 0 };
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    let lines = 0;
    const buf = Buffer.alloc(CHUNK);
    let lineHasData = false;
    for (let pos = Math.min(from, size); pos < size; ) {
      const n = readSync(fd, buf, 0, Math.min(CHUNK, size - pos), pos);
      if (n <= 0) break;
      for (let i = 0; i < n; i++) {
        const c = buf[i]!;
        if (c === 0x0a) {
          if (lineHasData) lines++;
          lineHasData = false;
        } else if (c !== 0x20 && c !== 0x0d && c !== 0x09) lineHasData = true;
      }
      pos += n;
    }
    if (lineHasData) lines++;
    return { lines, size };
  } finally {
    closeSync(fd);
  }
}
