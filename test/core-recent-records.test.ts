// The in-memory session tails of the runtime (src/core/recent-records.ts): the same records as a
// read of the file, always; any write that did not go through it makes the next read go to disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RecentRecords } from '../src/core/recent-records.js';
import { SessionStore, type SessionRecord } from '../src/store/index.js';
import { tempDir } from './helpers.js';

const rec = (role: 'user' | 'assistant', content: string, extra: Partial<SessionRecord> = {}): SessionRecord => ({ role, content, timestamp: '2026-01-01T00:00:00Z', ...extra });
const plain = (rs: SessionRecord[]) => rs.map((r) => `${r.role}:${r.content}`);

test('reads come from memory after the first, and equal a fresh tail of the file', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const store = new SessionStore(dir);
    const recent = new RecentRecords(store, { window: 4 });
    await store.append('s', rec('user', 'a'), rec('assistant', 'b'));
    assert.deepEqual(plain(recent.read('s').records), ['user:a', 'assistant:b']);
    let tails = 0;
    const tail = store.tail.bind(store);
    store.tail = (id, max) => (tails++, tail(id, max));
    for (let i = 0; i < 5; i++) {
      await recent.append('s', rec('user', `q${i}`, { message_id: String(i) }));
      if (i % 2) await recent.append('s', rec('assistant', `call${i}`, { kind: 'tool_call' }));
      await recent.appendDeferred('s', rec('assistant', `r${i}`));
      const got = recent.read('s');
      assert.deepEqual(plain(got.plain), plain(got.records.filter((r) => r.kind === undefined)), `plain records, round ${i}`);
      assert.deepEqual(plain(got.records), plain(tail('s', 4)), `round ${i}`);
      assert.equal(got.total, store.count('s'));
    }
    assert.equal(tails, 0, 'our own appends never send a read to disk');
    assert.equal(recent.read('s').records.length, 4, 'bounded by the window');
    assert.ok(recent.read('s').hasMessage('4'), 'the ids of our appended user records are known');
    assert.ok(!recent.read('s').hasMessage('nope'));
  } finally {
    cleanup();
  }
});

test('a write that bypassed it (another process, a repaired torn line, a truncation) is seen at the next read', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const store = new SessionStore(dir);
    const recent = new RecentRecords(store, { window: 8 });
    await recent.append('s', rec('user', 'a'));
    recent.read('s');
    // Another writer appends a line.
    appendFileSync(join(dir, 's.jsonl'), JSON.stringify(rec('assistant', 'from elsewhere')) + '\n');
    assert.deepEqual(plain(recent.read('s').records), ['user:a', 'assistant:from elsewhere']);
    // A torn line, then our append (which repairs it with a newline first): the count moves by two.
    appendFileSync(join(dir, 's.jsonl'), '{"role":"user","cont');
    await recent.append('s', rec('user', 'b'));
    assert.deepEqual(plain(recent.read('s').records), plain(store.tail('s', 8)));
    assert.deepEqual(plain(recent.read('s').records), ['user:a', 'assistant:from elsewhere', 'user:b']);
    // The file replaced by a shorter one.
    writeFileSync(join(dir, 's.jsonl'), JSON.stringify(rec('user', 'fresh')) + '\n');
    assert.deepEqual(plain(recent.read('s').records), ['user:fresh']);
    // A session that does not exist yet, then our first append.
    assert.deepEqual(recent.read('new').records, []);
    await recent.append('new', rec('user', 'first'));
    assert.deepEqual(plain(recent.read('new').records), ['user:first']);
  } finally {
    cleanup();
  }
});

test('bounded by sessions and bytes, least recently used out; a failed append forgets the copy', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const store = new SessionStore(dir);
    const recent = new RecentRecords(store, { window: 4, maxSessions: 3, maxBytes: 10_000 });
    for (const id of ['a', 'b', 'c', 'd']) {
      await store.append(id, rec('user', id));
      recent.read(id);
    }
    assert.equal(recent.size, 3);
    await store.append('big', rec('user', 'x'.repeat(6000)));
    recent.read('big');
    assert.ok(recent.size < 3, 'a large session pushes the others out');
    assert.deepEqual(plain(recent.read('a').records), ['user:a'], 'an evicted session is read again');
    assert.throws(() => recent.appendDeferred('../bad', rec('user', 'x')), /session id/);
    assert.deepEqual(plain(recent.read('a').records), ['user:a']);
  } finally {
    cleanup();
  }
});
