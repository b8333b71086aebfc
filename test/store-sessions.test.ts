// Session store: compatible file format, hostile ids, corrupt lines, tail reads, counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, readdirSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SessionStore, sanitizeSessionId, readLastLines } from '../src/store/index.js';
import { setEventSink } from '../src/observe/index.js';
import { tempDir } from './helpers.js';

function captureEvents(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  return { lines, restore: () => setEventSink(prev) };
}

test('file names keep the original sanitisation (data compatibility)', async () => {
  assert.equal(sanitizeSessionId('telegram:12345'), 'telegram_12345');
  assert.equal(sanitizeSessionId('telegram:-100123'), 'telegram_-100123');
  assert.equal(sanitizeSessionId('whatsapp:1234@s.whatsapp.net'), 'whatsapp_1234_s_whatsapp_net');
  assert.equal(sanitizeSessionId('日本'), '%E6%97%A5%E6%9C%AC', 'ids the original never produced get an injective name');
});

test('hostile session ids are rejected and nothing is written outside the folder', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const store = new SessionStore(join(dir, 'sessions'));
    const bad = ['', '../etc/passwd', 'a/b', 'a\\b', '..', 'x..y', 'tab\there', 'nl\n', '\u0000', 'x'.repeat(201), ' lead', 'trail '];
    for (const id of bad) await assert.rejects(store.append(id, { role: 'user', content: 'x', timestamp: 't' }), /session id/, `id ${JSON.stringify(id)}`);
    assert.deepEqual(readdirSync(dir), []);
    await store.append('x'.repeat(200), { role: 'user', content: 'ok', timestamp: 't' });
    assert.equal(store.count('x'.repeat(200)), 1);
  } finally {
    cleanup();
  }
});

test('records are one compact {role, content, timestamp} per line, readable by the original', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const store = new SessionStore(dir);
    await store.append('telegram:1', { role: 'user', content: 'hi "there"\nnew line', timestamp: '2026-01-01T00:00:00+00:00' });
    const text = readFileSync(join(dir, 'telegram_1.jsonl'), 'utf8');
    assert.equal(text, '{"role":"user","content":"hi \\"there\\"\\nnew line","timestamp":"2026-01-01T00:00:00+00:00"}\n');
  } finally {
    cleanup();
  }
});

test('a torn or corrupt line is skipped with a warning, never fatal', async () => {
  const { dir, cleanup } = tempDir();
  const ev = captureEvents();
  try {
    const store = new SessionStore(dir);
    await store.append('s', { role: 'user', content: 'one', timestamp: 't1' });
    appendFileSync(join(dir, 's.jsonl'), '{"role":"assistant","content":"tor'); // torn write, no newline
    await store.append('s', { role: 'assistant', content: 'two', timestamp: 't2' });
    appendFileSync(join(dir, 's.jsonl'), 'garbage\n[1,2]\n{"role":5,"content":"x"}\n');
    await store.append('s', { role: 'user', content: 'three', timestamp: 't3' });
    assert.deepEqual(store.all('s').map((r) => r.content), ['one', 'two', 'three']);
    assert.deepEqual(store.tail('s', 2).map((r) => r.content), ['two', 'three']);
    assert.ok(ev.lines.some((l) => l.includes('session_corrupt_line')));
  } finally {
    ev.restore();
    cleanup();
  }
});

test('tail reads from the end; count is incremental and survives an external append', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const store = new SessionStore(dir, { fsync: false });
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) lines.push(JSON.stringify({ role: i % 2 ? 'assistant' : 'user', content: `m${i}`, timestamp: 't' }));
    writeFileSync(join(dir, 'big.jsonl'), lines.join('\n') + '\n');
    assert.deepEqual(store.tail('big', 3).map((r) => r.content), ['m4997', 'm4998', 'm4999']);
    assert.equal(store.count('big'), 5000);
    await store.append('big', { role: 'user', content: 'm5000', timestamp: 't' });
    assert.equal(store.count('big'), 5001);
    appendFileSync(join(dir, 'big.jsonl'), JSON.stringify({ role: 'assistant', content: 'ext', timestamp: 't' }) + '\n');
    assert.equal(new SessionStore(dir).count('big'), 5002);
    assert.equal(store.count('big'), 5002);
    assert.equal(store.count('missing'), 0);
    assert.deepEqual(store.tail('missing', 5), []);
  } finally {
    cleanup();
  }
});

test('readLastLines handles lines longer than the read chunk; a last line without its newline is not there yet', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const f = join(dir, 'x.jsonl');
    const long = 'y'.repeat(200_000);
    writeFileSync(f, `a\n${long}\nb`);
    assert.deepEqual(readLastLines(f, 2), ['a', long]);
    assert.deepEqual(readLastLines(f, 10), ['a', long]);
    assert.deepEqual(readLastLines(f, 0), []);
    writeFileSync(f, `a\n${long}\nb\n`);
    assert.deepEqual(readLastLines(f, 2), [long, 'b']);
    writeFileSync(f, 'only-partial');
    assert.deepEqual(readLastLines(f, 5), []);
  } finally {
    cleanup();
  }
});

test('a stale count index (file replaced by a shorter one) is rebuilt', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const store = new SessionStore(dir, { fsync: false });
    mkdirSync(join(dir, '.index'), { recursive: true });
    writeFileSync(join(dir, '.index', 's.json'), JSON.stringify({ size: 999999, lines: 12345 }));
    await store.append('s', { role: 'user', content: 'a', timestamp: 't' });
    assert.equal(store.count('s'), 1);
    writeFileSync(join(dir, '.index', 's.json'), 'not json');
    assert.equal(new SessionStore(dir).count('s'), 1);
    assert.ok(existsSync(join(dir, 's.jsonl')));
  } finally {
    cleanup();
  }
});

test('tail answered from memory stays exact: external appends, a replaced file, callers that mutate', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const store = new SessionStore(dir, { fsync: false });
    const f = join(dir, 's.jsonl');
    for (let i = 0; i < 5; i++) await store.append('s', { role: 'user', content: `m${i}`, timestamp: 't' });
    assert.deepEqual(store.tail('s', 3).map((r) => r.content), ['m2', 'm3', 'm4']);
    await store.append('s', { role: 'assistant', content: 'm5', timestamp: 't', extra: { n: 1 } });
    const got = store.tail('s', 2);
    assert.deepEqual(got.map((r) => r.content), ['m4', 'm5']);
    assert.deepEqual(got[1]!.extra, { n: 1 });
    got[1]!.content = 'changed by a caller';
    assert.equal(store.tail('s', 1)[0]!.content, 'm5', 'the cache is not shared with callers');
    assert.deepEqual(store.tail('s', 100).map((r) => r.content), ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'], 'whole file known');
    // Another process appends: seen at once.
    appendFileSync(f, JSON.stringify({ role: 'user', content: 'ext', timestamp: 't' }) + '\n');
    assert.deepEqual(store.tail('s', 2).map((r) => r.content), ['m5', 'ext']);
    // A line still being written by another process is not there yet, then is.
    appendFileSync(f, '{"role":"user","content":"par');
    assert.deepEqual(store.tail('s', 1).map((r) => r.content), ['ext']);
    appendFileSync(f, 'tial","timestamp":"t"}\n');
    assert.deepEqual(store.tail('s', 1).map((r) => r.content), ['partial']);
    await store.append('s', { role: 'assistant', content: 'after', timestamp: 't' });
    assert.deepEqual(store.tail('s', 2).map((r) => r.content), ['partial', 'after']);
    // Replaced by a file of another inode (an operator's edit): read again.
    const replacement = join(dir, 'replacement.tmp');
    writeFileSync(replacement, JSON.stringify({ role: 'user', content: 'new file', timestamp: 't' }) + '\n');
    renameSync(replacement, f);
    assert.deepEqual(store.tail('s', 5).map((r) => r.content), ['new file']);
    await store.append('s', { role: 'assistant', content: 'next', timestamp: 't' });
    assert.deepEqual(store.tail('s', 5).map((r) => r.content), ['new file', 'next']);
    // Garbage appended by hand is skipped, as from the disk.
    appendFileSync(f, 'garbage\n\n   \n[1]\n');
    await store.append('s', { role: 'user', content: 'last', timestamp: 't' });
    assert.deepEqual(store.tail('s', 3).map((r) => r.content), ['new file', 'next', 'last']);
    await store.close();
  } finally {
    cleanup();
  }
});
