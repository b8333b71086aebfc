// The one cache of session tails (src/store/tail-cache.ts behind SessionStore.recent/tail): the
// same records as a fresh read of the file, always; any write that did not go through this store
// makes the next read go to disk; callers cannot change what it holds; memory stays bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SessionStore, type SessionRecord } from '../src/store/index.js';
import { TailCache } from '../src/store/tail-cache.js';
import { setEventSink } from '../src/observe/index.js';
import { tempDir } from './helpers.js';

const rec = (role: 'user' | 'assistant', content: string, extra: Partial<SessionRecord> = {}): SessionRecord => ({ role, content, timestamp: 't', ...extra });
const texts = (rs: readonly SessionRecord[]) => rs.map((r) => `${r.role}:${r.content}`);
const line = (r: SessionRecord) => JSON.stringify(r) + '\n';

/** The reference: the index of the last user record with that message id, by a scan. */
const scan = (rs: readonly SessionRecord[], id: string) => rs.findLastIndex((r) => r.role === 'user' && r.message_id === id);

function quiet(): () => void {
  const prev = setEventSink(() => undefined);
  return () => setEventSink(prev);
}

test('recent(): answered from memory after the first read, equal to a fresh read, our appends included', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const store = new SessionStore(dir, { fsync: false });
    const none = store.recent('s', 4);
    assert.deepEqual([none.records, none.total, none.indexOfUserMessage('x')], [[], 0, -1]);
    await store.append('s', rec('user', 'a', { message_id: 'm-a' }), rec('assistant', 'b'));
    const first = store.recent('s', 4);
    assert.deepEqual(texts(first.records), ['user:a', 'assistant:b']);
    for (let i = 0; i < 5; i++) {
      await store.append('s', rec('user', `q${i}`, { message_id: String(i) }));
      if (i % 2) await store.append('s', rec('assistant', `call${i}`, { kind: 'tool_call' }));
      await store.appendDeferred('s', rec('assistant', `r${i}`));
      const got = store.recent('s', 4);
      const fresh = new SessionStore(dir).recent('s', 4);
      assert.deepEqual(got.records, fresh.records, `round ${i}`);
      assert.equal(got.total, fresh.total);
      assert.equal(got.total, new SessionStore(dir).count('s'));
    }
    // Served from memory: the very same (frozen) objects, no parse of the file.
    const a = store.recent('s', 4).records;
    const b = store.recent('s', 4).records;
    assert.ok(a.every((r, i) => r === b[i]));
    assert.equal(store.recent('s', 4).indexOfUserMessage('4'), 2, 'an id from our own append');
    assert.equal(store.recent('s', 4).indexOfUserMessage('nope'), -1);
    // From a read of the disk (a new store), ids are found the same way.
    const other = new SessionStore(dir);
    assert.equal(other.recent('s', 4).indexOfUserMessage('4'), 2);
    assert.equal(other.recent('s', 100).indexOfUserMessage('m-a'), 0);
    await store.close();
  } finally {
    cleanup();
  }
});

test('our own appends are cached exactly as a reader of the file parses them, and never alias the caller', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const store = new SessionStore(dir, { fsync: false });
    store.recent('s', 8);
    class Tagged {
      constructor(readonly tag: string) {}
    }
    const odd: SessionRecord[] = [
      rec('user', 'undefined field', { message_id: undefined, n: 1.5, ok: true, none: null }),
      rec('assistant', 'nested', { meta: { list: [1, 'two', { three: 3 }] } }),
      rec('assistant', 'values JSON changes', { nan: NaN, inf: -Infinity, zero: -0, when: new Date(0), tagged: new Tagged('t') }),
      { ...rec('user', 'own toJSON'), toJSON: () => ({ role: 'user', content: 'as written', timestamp: 't' }) },
      Object.assign(Object.create({ inherited: 'x' }) as SessionRecord, rec('assistant', 'not a plain object')),
      JSON.parse('{"role":"user","content":"own __proto__ key","timestamp":"t","__proto__":null}') as SessionRecord,
    ];
    await store.append('s', ...odd.slice(0, 2));
    await store.append('s', ...odd.slice(2));
    assert.deepEqual(store.recent('s', 8).records, new SessionStore(dir).recent('s', 8).records);
    assert.deepEqual(store.recent('s', 8).records[3], { role: 'user', content: 'as written', timestamp: 't' });
    assert.ok(Object.hasOwn(store.recent('s', 8).records[5]!, '__proto__'));
    (odd[0] as SessionRecord).content = 'the caller changes its object';
    ((odd[1]!.meta as { list: unknown[] }).list as unknown[]).push('more');
    assert.deepEqual(store.recent('s', 8).records, new SessionStore(dir).recent('s', 8).records);
    assert.ok(!Object.isFrozen(odd[0]) && !Object.isFrozen(odd[1]!.meta), 'the caller\'s records are not frozen');
    await store.close();
  } finally {
    cleanup();
  }
});

test('a second writer, a truncation, a replaced file or a torn line send the next read to disk', async () => {
  const { dir, cleanup } = tempDir();
  const restore = quiet();
  try {
    const store = new SessionStore(dir, { fsync: false });
    const f = join(dir, 's.jsonl');
    await store.append('s', rec('user', 'a', { message_id: '1' }));
    assert.equal(store.recent('s', 8).total, 1);
    // Another SessionStore (another process) appends.
    const other = new SessionStore(dir, { fsync: false });
    await other.append('s', rec('assistant', 'from other', { message_id: 'x' }), rec('user', 'u2', { message_id: '2' }));
    let v = store.recent('s', 8);
    assert.deepEqual(texts(v.records), ['user:a', 'assistant:from other', 'user:u2']);
    assert.equal(v.total, 3);
    assert.equal(v.indexOfUserMessage('2'), 2, 'an id written by the other store');
    assert.equal(v.indexOfUserMessage('x'), -1, 'only user records are looked up');
    // A raw append by hand.
    appendFileSync(f, line(rec('assistant', 'by hand')));
    assert.deepEqual(texts(store.recent('s', 8).records).slice(-1), ['assistant:by hand']);
    // Our append after theirs: still exact.
    await store.append('s', rec('user', 'ours', { message_id: '3' }));
    assert.deepEqual(store.recent('s', 8).records, new SessionStore(dir).recent('s', 8).records);
    // A torn last line (a crash mid-write elsewhere) is not there yet; our next append repairs it.
    appendFileSync(f, '{"role":"user","cont');
    assert.deepEqual(texts(store.recent('s', 2).records), ['assistant:by hand', 'user:ours']);
    await store.append('s', rec('user', 'after tear', { message_id: '4' }));
    v = store.recent('s', 8);
    assert.deepEqual(texts(v.records), ['user:a', 'assistant:from other', 'user:u2', 'assistant:by hand', 'user:ours', 'user:after tear']);
    assert.equal(v.total, 7, 'the torn line counts as a line');
    assert.equal(v.indexOfUserMessage('4'), 5);
    // Truncated in place (same inode, shorter): read again.
    truncateSync(f, 0);
    appendFileSync(f, line(rec('user', 'rewritten', { message_id: '9' })));
    v = store.recent('s', 8);
    assert.deepEqual(texts(v.records), ['user:rewritten']);
    assert.equal(v.total, 1);
    assert.equal(v.indexOfUserMessage('1'), -1, 'ids of the old content are gone');
    assert.equal(v.indexOfUserMessage('9'), 0);
    // Replaced by another file (an operator's edit with an editor that renames).
    writeFileSync(join(dir, 'tmp'), line(rec('user', 'replaced')) + line(rec('assistant', 'file')));
    renameSync(join(dir, 'tmp'), f);
    assert.deepEqual(texts(store.recent('s', 8).records), ['user:replaced', 'assistant:file']);
    await store.append('s', rec('user', 'next'));
    assert.deepEqual(texts(store.recent('s', 8).records), ['user:replaced', 'assistant:file', 'user:next']);
    // Removed: empty, and the first append of a new file is known without a read.
    await store.close();
    const fresh = new SessionStore(dir, { fsync: false });
    assert.deepEqual(fresh.recent('new', 8).records, []);
    await fresh.append('new', rec('user', 'first', { message_id: 'f' }));
    assert.equal(fresh.recent('new', 8).indexOfUserMessage('f'), 0);
    await fresh.close();
  } finally {
    restore();
    cleanup();
  }
});

test('callers cannot change the cache: shared records are frozen, tail() gives copies', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const store = new SessionStore(dir, { fsync: false });
    await store.append('s', rec('user', 'a', { meta: { n: 1 } }), rec('assistant', 'b'));
    const v = store.recent('s', 4);
    assert.throws(() => ((v.records[0] as SessionRecord).content = 'changed'), TypeError);
    assert.throws(() => (((v.records[0] as SessionRecord).meta as { n: number }).n = 2), TypeError);
    (v.records as SessionRecord[]).push(rec('user', 'pushed'));
    (v.records as SessionRecord[]).length = 0;
    assert.deepEqual(texts(store.recent('s', 4).records), ['user:a', 'assistant:b']);
    const copy = store.tail('s', 4);
    copy[0]!.content = 'mine now';
    assert.equal(store.recent('s', 4).records[0]!.content, 'a');
    assert.deepEqual(store.recent('s', 4).records[0]!.meta, { n: 1 });
    await store.close();
  } finally {
    cleanup();
  }
});

test('message-id lookup: exactly the last such user record within the view, whatever was cut off', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const store = new SessionStore(dir, { fsync: false });
    const ids = new Set<string>();
    for (let i = 0; i < 400; i++) {
      // Repeated ids (a resumed turn), assistant records carrying ids, tool records between.
      const id = i % 3 ? `u${i}` : String(i % 30);
      ids.add(id);
      await store.append('s', rec('user', `q${i}`, { message_id: id }), rec('assistant', `a${i}`, { message_id: `a${i}` }));
      if (i % 7 === 0) await store.append('s', rec('assistant', 'call', { kind: 'tool_call' }));
      if (i % 37 !== 0) continue;
      for (const max of i === 370 ? [200] : [1, 5, 48, 64]) {
        const v = store.recent('s', max);
        const fresh = new SessionStore(dir).recent('s', max);
        assert.deepEqual(v.records, fresh.records);
        for (const id of ids) {
          assert.equal(v.indexOfUserMessage(id), scan(v.records, id), `round ${i}, max ${max}, id ${id}`);
          assert.equal(fresh.indexOfUserMessage(id), scan(fresh.records, id));
        }
      }
    }
    // A view taken before an append still answers for its own records.
    const before = store.recent('s', 48);
    const at = before.records.findLastIndex((r) => r.role === 'user');
    const id = before.records[at]!.message_id as string;
    await store.append('s', rec('user', 'again', { message_id: id }));
    assert.equal(before.indexOfUserMessage(id), at);
    assert.equal(store.recent('s', 48).indexOfUserMessage(id), 47);
    await store.close();
  } finally {
    cleanup();
  }
});

test('garbage lines in the file are skipped, counted as lines, and break nothing', async () => {
  const { dir, cleanup } = tempDir();
  const events: string[] = [];
  const prev = setEventSink((l) => events.push(l));
  try {
    const store = new SessionStore(dir, { fsync: false });
    const f = join(dir, 's.jsonl');
    writeFileSync(f, line(rec('user', 'a', { message_id: '1' })) + 'garbage\n[1]\nnull\n{"role":"user"}\n   \n"str"\n' + '{not json\n'.repeat(12) + line(rec('assistant', 'b')));
    let v = store.recent('s', 4);
    assert.deepEqual(texts(v.records), ['user:a', 'assistant:b']);
    assert.equal(v.indexOfUserMessage('1'), 0);
    assert.equal(v.total, 19);
    assert.ok(events.some((l) => l.includes('session_corrupt_line')));
    appendFileSync(f, '\u0000\u0001 binary\n');
    await store.append('s', rec('user', 'c', { message_id: '2' }));
    v = store.recent('s', 4);
    assert.deepEqual(texts(v.records), ['user:a', 'assistant:b', 'user:c']);
    assert.equal(v.indexOfUserMessage('2'), 2);
    assert.equal(v.total, store.count('s'));
    await store.close();
  } finally {
    setEventSink(prev);
    cleanup();
  }
});

test('memory stays bounded by bytes and by sessions, least recently used out', () => {
  const keyOf = (r: SessionRecord) => (r.role === 'user' && typeof r.message_id === 'string' ? r.message_id : undefined);
  const cache = new TailCache<SessionRecord>(keyOf);
  const big = 'x'.repeat(64 * 1024);
  const stamp = (ino: number, size: number) => ({ ino, size, mtimeMs: 1 });
  let reads = 0;
  const reader = (records: SessionRecord[], ino: number, size: number) => (n: number) => (reads++, { ...stamp(ino, size), records: records.slice(-n), whole: records.length <= n });
  for (let s = 0; s < 200; s++) {
    const records = Array.from({ length: 40 }, (_, i) => rec('user', i % 2 ? big : 'short', { message_id: `${s}-${i}` }));
    cache.view(`/s${s}`, stamp(s, 1000), 48, reader(records, s, 1000));
    cache.appended(`/s${s}`, s, 1000, 2000, [rec('assistant', big)]);
    assert.ok(cache.accounted <= 4 * 1024 * 1024, `after session ${s}: ${cache.accounted}`);
  }
  // The most recent session is still answered from memory; one of the first is long gone.
  reads = 0;
  const recentView = cache.view('/s199', { ino: 199, size: 2000, mtimeMs: 5 }, 3, reader([], 199, 2000));
  assert.equal(recentView.records.length, 3);
  assert.equal(reads, 0);
  assert.equal(recentView.indexOfKey('199-39'), 1);
  cache.view('/s0', stamp(0, 2000), 3, reader([rec('user', 'reread')], 0, 2000));
  assert.equal(reads, 1);
  // Many small sessions: at most 512 kept.
  const small = new TailCache<SessionRecord>(keyOf);
  for (let s = 0; s < 700; s++) small.view(`/t${s}`, stamp(s, 10), 48, reader([rec('user', 'hi')], s, 10));
  assert.equal(small.size, 512);
  // A session asked for more than it keeps is read from the disk once, then kept deeper.
  const many = Array.from({ length: 300 }, (_, i) => rec('user', `m${i}`));
  reads = 0;
  cache.view('/deep', stamp(1, 10), 48, reader(many, 1, 10));
  assert.deepEqual(texts(cache.view('/deep', stamp(1, 10), 200, reader(many, 1, 10)).records), texts(many.slice(-200)));
  assert.deepEqual(texts(cache.view('/deep', stamp(1, 10), 200, reader(many, 1, 10)).records), texts(many.slice(-200)));
  assert.equal(reads, 2);
});

test('the message-id lookup is one map probe: no scan, whether the id is in the view, cut off or unknown', () => {
  let calls = 0;
  const cache = new TailCache<SessionRecord>((r) => (calls++, r.role === 'user' && typeof r.message_id === 'string' ? r.message_id : undefined));
  const stamp = { ino: 1, size: 0, mtimeMs: NaN };
  let size = 0;
  for (let i = 0; i < 500; i++) {
    const records = [rec('user', `q${i}`, { message_id: `m${i}` }), rec('assistant', `a${i}`)];
    cache.appended('/s', 1, size, size + 100, records);
    size += 100;
  }
  const v = cache.view('/s', { ...stamp, size }, 48, () => assert.fail('answered from memory'));
  for (let i = 0; i < 500; i++) {
    calls = 0;
    assert.equal(v.indexOfKey(`m${i}`), i >= 476 ? (i - 476) * 2 : -1);
    assert.ok(calls <= 1, `m${i}: ${calls} calls`);
  }
  calls = 0;
  assert.equal(v.indexOfKey('unknown'), -1);
  assert.equal(calls, 0);
});

test('an append right after recent() in the same run of code reuses its stat; after a yield a replaced file is seen', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const store = new SessionStore(dir, { fsync: false });
    await store.append('s', rec('user', 'a'));
    store.recent('s', 8);
    await store.appendDeferred('s', rec('user', 'b')); // same run: the view's stat
    assert.deepEqual(texts(new SessionStore(dir).all('s')), ['user:a', 'user:b']);
    store.recent('s', 8);
    await Promise.resolve(); // a yield: the remembered stat is gone
    writeFileSync(join(dir, 'new.tmp'), line(rec('user', 'operator')));
    renameSync(join(dir, 'new.tmp'), join(dir, 's.jsonl'));
    await store.appendDeferred('s', rec('assistant', 'c'));
    assert.deepEqual(texts(new SessionStore(dir).all('s')), ['user:operator', 'assistant:c'], 'written to the file the path names now');
    await store.close();
  } finally {
    cleanup();
  }
});
