// The one locked JSON state file: validate, salvage, back up, atomic write under the lock; and
// the schema checks it uses. Garbage of every kind is moved aside, never coerced in place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsonStateFile, SchemaError, schema as S, withFileLock, type StateCodec } from '../src/store/index.js';
import { setEventSink } from '../src/observe/index.js';
import { writeFileAtomicAsync } from '../src/store/atomic-file.js';
import { tempDir } from './helpers.js';

interface Counter {
  n: number;
  items: string[];
}

const codec: StateCodec<Counter> = {
  what: 'counter',
  empty: () => ({ n: 0, items: [] }),
  decode(value, issues) {
    if (!S.isObject(value)) throw new SchemaError('', 'not an object');
    return { n: S.salvageField(value.n, 'n', S.number({ integer: true, min: 0 }), 0, issues), items: S.salvageArray(value.items, 'items', S.string, issues) };
  },
};

function capture() {
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  return { warnings: () => lines.map((l) => JSON.parse(l)).filter((e) => e.event === 'warning'), restore: () => setEventSink(prev) };
}

const backups = (dir: string) => readdirSync(dir).filter((f) => f.includes('.corrupt-'));

test('missing → empty without a warning; update writes atomically with the given mode', async () => {
  const { dir, cleanup } = tempDir();
  const cap = capture();
  try {
    const f = new JsonStateFile(join(dir, 's.json'), codec, { mode: 0o600 });
    assert.deepEqual(f.read(), { n: 0, items: [] });
    assert.equal(await f.update((s) => ((s.n += 2), { result: 'r', changed: true })), 'r');
    assert.deepEqual(JSON.parse(readFileSync(f.path, 'utf8')), { n: 2, items: [] });
    assert.equal(statSync(f.path).mode & 0o777, 0o600);
    await f.update(() => ({ result: undefined, changed: false }));
    assert.equal(readdirSync(dir).filter((x) => x.startsWith('.')).length, 0, 'no temp files left');
    assert.deepEqual(cap.warnings(), []);
  } finally {
    cap.restore();
    cleanup();
  }
});

test('garbage battery: each is moved aside with its bytes, a warning, and a rebuilt file', async () => {
  const { dir, cleanup } = tempDir();
  const cap = capture();
  try {
    const f = new JsonStateFile(join(dir, 's.json'), codec);
    const junk = ['', '\0\0\0', '{', 'null', '42', '"x"', '[]', '{"n":"5"}', '{"n":1e400}', '{"n":-1}', '{"n":1.5}', '{"n":9e15,"items":[1]}', '{"items":"abc"}', '\uFEFF{"n":1}'];
    for (const [i, text] of junk.entries()) {
      writeFileSync(f.path, text);
      const s = f.read();
      assert.ok(Number.isSafeInteger(s.n) && s.n >= 0, `${i}: ${JSON.stringify(text)} → ${JSON.stringify(s)}`);
      assert.ok(s.items.every((x) => typeof x === 'string'));
      assert.equal(backups(dir).length, i + 1, `moved aside: ${JSON.stringify(text)}`);
      assert.ok(backups(dir).some((b) => readFileSync(join(dir, b), 'utf8') === text), `bytes kept: ${JSON.stringify(text)}`);
      assert.deepEqual(JSON.parse(readFileSync(f.path, 'utf8')), s, 'rebuilt from what validated');
    }
    const w = cap.warnings();
    assert.equal(w.length, junk.length);
    assert.ok(w.every((e) => e.message === 'counter file is corrupt; moved aside and rebuilt' && typeof e.moved_to === 'string' && Array.isArray(e.problems)));
    // 9e15 is a safe integer: kept; the bad item is what was dropped.
    writeFileSync(f.path, '{"n":9e15,"items":["a",2,"b"]}');
    assert.deepEqual(f.read(), { n: 9e15, items: ['a', 'b'] });
  } finally {
    cap.restore();
    cleanup();
  }
});

test('a read while another process holds the lock returns the salvage and leaves the repair to the holder', async () => {
  const { dir, cleanup } = tempDir();
  const cap = capture();
  try {
    const f = new JsonStateFile(join(dir, 's.json'), codec);
    writeFileSync(f.path, '{"n":3,"items":["a",7]}');
    await withFileLock(f.path, () => {
      assert.deepEqual(f.read(), { n: 3, items: ['a'] });
      assert.equal(backups(dir).length, 0, 'not touched under someone else’s lock');
    });
    // The next update (or unlocked read) repairs it.
    assert.equal(await f.update((s) => ({ result: s.n, changed: false })), 3);
    assert.equal(backups(dir).length, 1);
    assert.deepEqual(JSON.parse(readFileSync(f.path, 'utf8')), { n: 3, items: ['a'] });
    assert.equal(cap.warnings().length, 1);
  } finally {
    cap.restore();
    cleanup();
  }
});

test('concurrent updates in one process lose nothing', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const f = new JsonStateFile(join(dir, 's.json'), codec, { fsync: false });
    await Promise.all(Array.from({ length: 40 }, (_, i) => f.update((s) => (s.n++, s.items.push(String(i)), { result: undefined, changed: true }))));
    const s = f.read();
    assert.equal(s.n, 40);
    assert.equal(new Set(s.items).size, 40);
  } finally {
    cleanup();
  }
});

test('asyncWrite: the same atomic write off the event loop (mode, concurrent updates, garbage moved aside, a failed write leaves no temp file)', async () => {
  const { dir, cleanup } = tempDir();
  const cap = capture();
  try {
    const f = new JsonStateFile(join(dir, 's.json'), codec, { mode: 0o600, asyncWrite: true });
    await Promise.all(Array.from({ length: 20 }, (_, i) => f.update((s) => (s.n++, s.items.push(String(i)), { result: undefined, changed: true }))));
    assert.equal(f.read().n, 20);
    assert.equal(statSync(f.path).mode & 0o777, 0o600);
    writeFileSync(f.path, '{"n": "not a number"');
    await f.update((s) => ((s.n = 7), { result: undefined, changed: true }));
    assert.deepEqual(JSON.parse(readFileSync(f.path, 'utf8')), { n: 7, items: [] });
    assert.equal(readdirSync(dir).filter((x) => x.includes('.corrupt-')).length, 1);
    // The target cannot be replaced (a directory stands in its way): the update fails, nothing is left behind.
    mkdirSync(join(dir, 'blocked', 'inside'), { recursive: true });
    await assert.rejects(writeFileAtomicAsync(join(dir, 'blocked'), 'x'));
    assert.deepEqual(readdirSync(join(dir, 'blocked')), ['inside']);
    assert.deepEqual(readdirSync(dir).filter((x) => x.endsWith('.tmp')), [], 'no temp file left');
  } finally {
    cap.restore();
    cleanup();
  }
});

test('schema checks name the bad path', () => {
  const task = S.object({ id: S.number({ integer: true, min: 0 }), tags: S.withDefault(S.array(S.string), () => []), note: S.nullable(S.string), kind: S.literal('a', 'b') });
  assert.deepEqual(task({ id: 1, note: null, kind: 'a', extra: true }, 'q[0]'), { id: 1, tags: [], note: null, kind: 'a' });
  const bad: Array<[unknown, RegExp]> = [
    [{ id: '1', note: null, kind: 'a' }, /^q\[0\]\.id: expected a finite number, got string$/],
    [{ id: 1, tags: [1], note: null, kind: 'a' }, /^q\[0\]\.tags\[0\]: expected a string/],
    [{ id: 1, note: 5, kind: 'a' }, /^q\[0\]\.note: expected a string/],
    [{ id: 1, note: null, kind: 'c' }, /^q\[0\]\.kind: expected one of "a", "b", got "c"$/],
    [{ id: Number.MAX_SAFE_INTEGER + 2, note: null, kind: 'a' }, /safe integer/],
    [[], /^q\[0\]: expected an object, got an array$/],
  ];
  for (const [v, re] of bad) assert.throws(() => task(v, 'q[0]'), (e: unknown) => e instanceof SchemaError && re.test(e.message), JSON.stringify(v));
});
