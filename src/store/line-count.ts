// Counting the lines of a session file in bulk, for its first touch without a count cache (a
// session carried over from the original, a deleted `.index`): a million lines are ~125 MB.
// Reading them costs what it costs; the count itself runs in a tiny WebAssembly function that
// looks at 16 bytes per step (SIMD): about 5 ms per million lines beyond the read, against
// 20-30 ms for a Buffer.indexOf per line (more in a cold CLI process). Where
// WebAssembly SIMD is missing, the same rule runs in JavaScript.
//
// The rule (both paths): a complete line (ending in \n) counts unless it is blank, i.e. at most
// 16 bytes of spaces, tabs and CRs (longer lines are never looked at byte by byte).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const CHUNK = 1024 * 1024;
/** Where a chunk starts in the module's memory: the 16 bytes before it hold the previous chunk's end. */
const BASE = 32;

/**
 * Counts the complete non-blank lines in [from, size). `size` is returned as the end of the last
 * complete line, so a line still being written is counted once it is finished. `from` must be 0
 * or the end of a complete line. `chunk` is for tests (chunk boundaries anywhere).
 */
export function countLines(path: string, from = 0, chunk = CHUNK): { lines: number; size: number } {
  return withFile(path, (fd, size) => {
    const counter = wasmCounter();
    return counter ? countWasm(fd, size, Math.min(from, size), counter, Math.min(chunk, CHUNK)) : countJs(fd, size, Math.min(from, size), chunk);
  });
}

/** The JavaScript path (also the reference the tests hold the fast path to). */
export function countLinesJs(path: string, from = 0, chunk = CHUNK): { lines: number; size: number } {
  return withFile(path, (fd, size) => countJs(fd, size, Math.min(from, size), chunk));
}

/** Runs `count` on the open file and its size; a missing file has no lines. */
function withFile(path: string, count: (fd: number, size: number) => { lines: number; size: number }): { lines: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines: 0, size: 0 };
    throw err;
  }
  try {
    return count(fd, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}

interface Counter {
  count: (start: number, end: number, lineStart: number) => number;
  bytes: Uint8Array;
  /** Where `count` leaves the start of the line after the last newline it saw. */
  last: Int32Array;
}

function countWasm(fd: number, size: number, from: number, c: Counter, chunk: number): { lines: number; size: number } {
  const view = Buffer.from(c.bytes.buffer, BASE, chunk);
  let lines = 0;
  let lastEnd = from; // file offset just after the last newline seen
  let lineStart = BASE; // the same, as an address in the module's memory
  for (let pos = from; pos < size; ) {
    const n = readSync(fd, view, 0, Math.min(chunk, size - pos), pos);
    if (n <= 0) break;
    const padded = (n + 15) & ~15;
    c.bytes.fill(0, BASE + n, BASE + padded); // no stale newline in the last step's tail
    lines += c.count(BASE, BASE + padded, lineStart);
    const last = c.last[0] as number;
    if (last !== lineStart) lastEnd = pos + (last - BASE); // a newline in this chunk (last > BASE)
    pos += n;
    // The next chunk lands at BASE again: keep the 16 bytes before it, enough to look at a short
    // line that straddles the boundary. A longer one only needs its length to exceed 16.
    c.bytes.copyWithin(BASE - 16, BASE + n - 16, BASE + n);
    lineStart = Math.max(BASE - 17, BASE + (lastEnd - pos));
  }
  return { lines, size: lastEnd };
}

function countJs(fd: number, size: number, from: number, chunk: number): { lines: number; size: number } {
  let lines = 0;
  let lastEnd = from; // just after the last newline seen
  const buf = Buffer.allocUnsafe(Math.min(chunk, Math.max(1, size - lastEnd)));
  for (let pos = lastEnd; pos < size; ) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
    if (n <= 0) break;
    const view = n === buf.length ? buf : buf.subarray(0, n);
    for (let i = view.indexOf(0x0a); i !== -1; i = view.indexOf(0x0a, i + 1)) {
      const lineStart = lastEnd - pos; // may be negative: the line began in an earlier chunk
      if (i - lineStart > 16 || !isBlank(fd, view, pos, lineStart, i)) lines++;
      lastEnd = pos + i + 1;
    }
    pos += n;
  }
  return { lines, size: lastEnd };
}

/** Whether the line [start, end) (start relative to `view`, maybe before it) holds only whitespace. */
function isBlank(fd: number, view: Buffer, viewPos: number, start: number, end: number): boolean {
  let bytes: Buffer;
  if (start >= 0) bytes = view.subarray(start, end);
  else {
    bytes = Buffer.alloc(end - start);
    readSync(fd, bytes, 0, bytes.length, viewPos + start);
  }
  for (const c of bytes) if (c !== 0x20 && c !== 0x0d && c !== 0x09) return false;
  return true;
}

let counter: Counter | null | undefined;

/** Whether the SIMD path is in use here (tests). */
export function simdLineCount(): boolean {
  return wasmCounter() !== null;
}

// The global's shape as used here (the project's lib settings do not declare it).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

/** The WebAssembly counter, built once; null where WebAssembly or its SIMD is unavailable. */
function wasmCounter(): Counter | null {
  if (counter !== undefined) return counter;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(counterModule()), {});
    const memory = instance.exports.mem as { buffer: ArrayBuffer };
    counter = { count: instance.exports.count as Counter['count'], bytes: new Uint8Array(memory.buffer), last: new Int32Array(memory.buffer, 0, 1) };
  } catch {
    counter = null;
  }
  return counter;
}

/**
 * The module, assembled from its instructions (about 220 bytes). In WebAssembly text:
 *
 *   (func (export "count") (param $p i32) (param $end i32) (param $last i32) (result i32)
 *     ;; $n lines counted, $m newline bits of the current 16 bytes, $pos a newline's address
 *     $nl = i8x16.splat(10)
 *     while $p < $end:
 *       $m = i8x16.bitmask(i8x16.eq(v128.load($p), $nl))
 *       while $m != 0:                                 ;; each newline in these 16 bytes
 *         $pos = $p + ctz($m)
 *         if $pos - $last > 16: $n++                   ;; long line: counted
 *         else if any byte in [$last, $pos) is not space, CR or tab: $n++
 *         $last = $pos + 1; $m &= $m - 1
 *       $p += 16
 *     store(0, $last); return $n)
 *   (memory (export "mem") 17)                         ;; 1 MiB chunk + 32 bytes before it
 */
function counterModule(): Uint8Array {
  const P = 0, END = 1, LAST = 2, N = 3, M = 4, POS = 5, Q = 6, C = 7, NL = 8;
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const tee = (i: number) => [0x22, i];
  const i32 = (v: number) => [0x41, v & 0x7f]; // small non-negative constants only (< 64)
  const [add, sub, and, ne, geU, gtS, ctz] = [0x6a, 0x6b, 0x71, 0x47, 0x4f, 0x4a, 0x68];
  const [block, loop, ifThen, orElse, end] = [[0x02, 0x40], [0x03, 0x40], [0x04, 0x40], 0x05, 0x0b];
  const br = (depth: number) => [0x0c, depth];
  const brIf = (depth: number) => [0x0d, depth];
  const inc = (i: number) => [...get(i), ...i32(1), add, ...set(i)];
  const [v128Load, i8x16Splat, i8x16Eq, i8x16Bitmask] = [[0xfd, 0x00, 0x04, 0x00], [0xfd, 0x0f], [0xfd, 0x23], [0xfd, 0x64]];
  const body = [
    ...i32(10), ...i8x16Splat, ...set(NL),
    ...block, ...loop, // over 16-byte steps
    ...get(P), ...get(END), geU, ...brIf(1),
    ...get(P), ...v128Load, ...get(NL), ...i8x16Eq, ...i8x16Bitmask, ...tee(M),
    ...ifThen, ...loop, // over the newlines of this step
    ...get(P), ...get(M), ctz, add, ...set(POS),
    ...get(POS), ...get(LAST), sub, ...i32(16), gtS,
    ...ifThen, ...inc(N),
    orElse, ...get(LAST), ...set(Q),
    ...block, ...loop, // over the bytes of a short line
    ...get(Q), ...get(POS), geU, ...brIf(1),
    ...get(Q), 0x2d, 0x00, 0x00, ...tee(C), ...i32(32), ne, // i32.load8_u
    ...get(C), ...i32(13), ne, and,
    ...get(C), ...i32(9), ne, and,
    ...ifThen, ...inc(N), ...br(2), end,
    ...inc(Q), ...br(0),
    end, end, // short line
    end, // if long
    ...get(POS), ...i32(1), add, ...set(LAST),
    ...get(M), ...get(M), ...i32(1), sub, and, ...tee(M), ...brIf(0),
    end, end, // newlines
    ...get(P), ...i32(16), add, ...set(P), ...br(0),
    end, end, // steps
    ...i32(0), ...get(LAST), 0x36, 0x02, 0x00, // i32.store
    ...get(N),
    end,
  ];
  const fn = [0x02, 0x05, 0x7f, 0x01, 0x7b, ...body]; // locals: 5 x i32, 1 x v128
  const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];
  const name = (s: string) => [s.length, ...Buffer.from(s)];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x01, 0x7f]), // (i32, i32, i32) -> i32
    ...section(3, [0x01, 0x00]),
    ...section(5, [0x01, 0x00, 17]), // memory: 17 pages of 64 KiB
    ...section(7, [0x02, ...name('count'), 0x00, 0x00, ...name('mem'), 0x02, 0x00]),
    ...section(10, [0x01, ...leb(fn.length), ...fn]),
  ]);
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
