// Bulk line counting (first touch of a session without its count cache): the SIMD path and the
// JavaScript path agree with a plain reading of the rule on hostile bytes, at any chunk size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countLines } from '../src/store/index.js';
import { countLinesJs, simdLineCount } from '../src/store/line-count.js';
import { tempDir } from './helpers.js';

/** The rule, read plainly: complete lines, not counting blank ones of at most 16 bytes. */
function reference(bytes: Buffer, from: number): { lines: number; size: number } {
  let lines = 0;
  let start = from;
  for (let i = from; i < bytes.length; i++) {
    if (bytes[i] !== 0x0a) continue;
    const line = bytes.subarray(start, i);
    if (line.length > 16 || line.some((c) => c !== 0x20 && c !== 0x0d && c !== 0x09)) lines++;
    start = i + 1;
  }
  return { lines, size: start };
}

/** Lines of hostile shapes: blank, whitespace of 16 and 17 bytes, CRLF, NULs, UTF-8, long. */
function hostile(seed: number, count: number): Buffer {
  const parts: Buffer[] = [];
  const shapes = [
    () => Buffer.from('\n'),
    () => Buffer.from(' \t\r\n'),
    () => Buffer.from(' '.repeat(16) + '\n'),
    () => Buffer.from(' '.repeat(17) + '\n'),
    () => Buffer.from('\t'.repeat(15) + 'x\n'),
    () => Buffer.from('{"role":"user","content":"hi"}\r\n'),
    () => Buffer.from('\0\0\0\n'),
    () => Buffer.from('日本語 ✓\n'),
    () => Buffer.from(JSON.stringify({ role: 'assistant', content: 'y'.repeat((seed * 7919) % 300) }) + '\n'),
    () => Buffer.concat([randomBytes(1 + (seed % 40)).map((b) => (b === 0x0a ? 0x0b : b)), Buffer.from('\n')]),
    () => randomBytes(1 + (seed % 50)), // may hold newlines: garbage
  ];
  for (let i = 0; i < count; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    parts.push(shapes[seed % shapes.length]!());
  }
  return Buffer.concat(parts);
}

test('countLines: the fast path, the JavaScript path and the rule agree on hostile bytes, any chunk size', () => {
  assert.ok(simdLineCount(), 'Node 20 has WebAssembly SIMD: the fast path is the one tested');
  const { dir, cleanup } = tempDir();
  try {
    for (let seed = 1; seed <= 12; seed++) {
      let bytes = hostile(seed, 400 + seed * 37);
      if (seed % 3 === 0) bytes = Buffer.concat([bytes, Buffer.from('{"role":"user","content":"still being wri')]); // a partial last line
      const f = join(dir, `s${seed}.jsonl`);
      writeFileSync(f, bytes);
      const expected = reference(bytes, 0);
      for (const chunk of [1, 7, 16, 17, 31, 64, 1000, 1 << 20]) {
        assert.deepEqual(countLines(f, 0, chunk), expected, `fast path, seed ${seed}, chunk ${chunk}`);
        assert.deepEqual(countLinesJs(f, 0, chunk), expected, `JavaScript path, seed ${seed}, chunk ${chunk}`);
      }
      // From the end of a complete line in the middle (an incremental count).
      const mid = bytes.indexOf(0x0a, bytes.length >> 1) + 1;
      if (mid > 0) assert.deepEqual(countLines(f, mid, 33), reference(bytes, mid), `from ${mid}, seed ${seed}`);
    }
  } finally {
    cleanup();
  }
});

test('countLines: empty, missing, no newline at all, only newlines, a start past the end', () => {
  const { dir, cleanup } = tempDir();
  try {
    const f = join(dir, 'x.jsonl');
    assert.deepEqual(countLines(join(dir, 'missing.jsonl')), { lines: 0, size: 0 });
    writeFileSync(f, '');
    assert.deepEqual(countLines(f), { lines: 0, size: 0 });
    writeFileSync(f, 'x'.repeat(5000));
    assert.deepEqual(countLines(f), { lines: 0, size: 0 });
    writeFileSync(f, '\n'.repeat(100));
    assert.deepEqual(countLines(f), { lines: 0, size: 100 });
    writeFileSync(f, 'a\nb\n');
    assert.deepEqual(countLines(f, 10), { lines: 0, size: 4 });
    assert.deepEqual(countLines(f, 2), { lines: 1, size: 4 });
  } finally {
    cleanup();
  }
});
