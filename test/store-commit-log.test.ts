// Group commit across session files (src/store/commit-log.ts): one log fdatasync covers the
// appends of a loop turn to many sessions; a checkpoint flushes the sessions and deletes the log;
// after a simulated power cut (session tails lost, a new file gone) recovery appends exactly the
// lost lines, once; garbage and hostile logs change nothing outside the sessions directory.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';
import { SessionStore, type SessionRecord } from '../src/store/index.js';
import { CommitLog, commitLogDir, parseCommitLog, recoverCommitLogs } from '../src/store/commit-log.js';
import { AppendFile } from '../src/store/jsonl.js';

const { dir: root, cleanup } = tempDir('rp-commit-log-');
after(cleanup);
let n = 0;
const fresh = (): string => {
  const d = join(root, `s${++n}`);
  mkdirSync(d, { recursive: true });
  return d;
};
const rec = (i: number, role = 'user'): SessionRecord => ({ role, content: `message ${i} ✓`, timestamp: `2026-12-01T00:00:${String(i % 60).padStart(2, '0')}+00:00`, request_id: `r-${i}` });
const logs = (d: string): string[] => (existsSync(commitLogDir(d)) ? readdirSync(commitLogDir(d)).filter((f) => f.endsWith('.log')) : []);
const lines = (path: string): string[] => readFileSync(path, 'utf8').split('\n').filter(Boolean);
const dead = (): boolean => false;

test('appends to many sessions in one loop turn share one log write; a checkpoint flushes them and deletes the log', async () => {
  const d = fresh();
  const store = new SessionStore(d, { commitLog: true });
  const done = [];
  for (let i = 0; i < 20; i++) done.push(store.appendDeferred(`telegram:${i}`, rec(i), rec(i, 'assistant')));
  await Promise.all(done);
  const [log] = logs(d);
  assert.ok(log, 'a log exists once appends are durable');
  const entries = parseCommitLog(readFileSync(join(commitLogDir(d), log), 'utf8'));
  assert.equal(entries.length, 20);
  assert.deepEqual(entries[3]!.lines, lines(join(d, 'telegram_3.jsonl')));
  assert.equal(entries[3]!.at, 0);
  await store.close(); // checkpoint: session files flushed, log deleted
  assert.deepEqual(logs(d), []);
  // A store without a commit log reads what was written.
  assert.deepEqual(new SessionStore(d).tail('telegram:7', 10).map((r) => r.content), ['message 7 ✓', 'message 7 ✓']);
});

test('the timed checkpoint deletes the log while the process keeps running', async () => {
  const d = fresh();
  const log = new CommitLog(d, { checkpointMs: 20 });
  const line = '{"role":"user","content":"x","timestamp":""}\n';
  const files = [0, 1, 2, 3].map((i) => new AppendFile(join(d, `f${i}.jsonl`)));
  await Promise.all(files.map((f) => log.add(f, f.append(line, 0).before, line, 1)));
  assert.equal(logs(d).length, 1);
  assert.ok(files.every((f) => f.dirty), 'the session files themselves are not flushed per turn');
  for (let i = 0; i < 500 && logs(d).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(logs(d), []);
  assert.ok(files.every((f) => !f.dirty), 'flushed by the checkpoint');
  await log.close();
  for (const f of files) f.close();
});

test('a loop turn that touched only a few session files flushes them directly: no log', async () => {
  const d = fresh();
  const store = new SessionStore(d, { commitLog: true });
  await Promise.all([store.appendDeferred('telegram:1', rec(1)), store.appendDeferred('telegram:2', rec(2)), store.appendDeferred('telegram:3', rec(3))]);
  for (let i = 0; i < 5; i++) await store.append('telegram:1', rec(10 + i));
  assert.deepEqual(logs(d), []);
  assert.equal(new SessionStore(d).tail('telegram:1', 10).length, 6);
  await store.close();
});

/** Writes through a store with a commit log and leaves the log behind, as a crash would. */
async function crashedStore(d: string, sessions: number, turns: number): Promise<Map<string, string[]>> {
  const store = new SessionStore(d, { commitLog: true });
  const expected = new Map<string, string[]>();
  for (let t = 0; t < turns; t++) {
    const waits = [];
    for (let s = 0; s < sessions; s++) waits.push(store.appendDeferred(`telegram:${s}`, rec(t * 100 + s), rec(t * 100 + s, 'assistant')));
    // Other chats in the same loop turn: enough files at once for the log to be used.
    for (let s = 0; s < 4; s++) waits.push(store.appendDeferred(`telegram:${900 + s}`, rec(t * 100 + 90 + s)));
    await Promise.all(waits);
  }
  for (let s = 0; s < sessions; s++) expected.set(`telegram_${s}.jsonl`, lines(join(d, `telegram_${s}.jsonl`)));
  return expected; // never closed: the log stays
}

test('after a power cut, recovery appends exactly the lost lines, once', async () => {
  const d = fresh();
  const expected = await crashedStore(d, 4, 3);
  assert.equal(logs(d).length, 1);
  // The power cut: telegram_0 lost its last turn, telegram_1 lost everything but one line (and half a
  // line), telegram_2 (created in this run) is gone, telegram_3 kept everything.
  const size = (f: string): number => statSync(join(d, f)).size;
  const full0 = readFileSync(join(d, 'telegram_0.jsonl'), 'utf8');
  truncateSync(join(d, 'telegram_0.jsonl'), Buffer.byteLength(full0) - Buffer.byteLength(expected.get('telegram_0.jsonl')!.slice(-2).join('\n') + '\n'));
  const first1 = Buffer.byteLength(expected.get('telegram_1.jsonl')![0]! + '\n');
  truncateSync(join(d, 'telegram_1.jsonl'), first1 + 10);
  rmSync(join(d, 'telegram_2.jsonl'));
  const before3 = size('telegram_3.jsonl');

  const r = recoverCommitLogs(d, dead);
  assert.equal(r.logs, 1);
  assert.equal(r.restored, 2 + 5 + 6);
  assert.deepEqual(lines(join(d, 'telegram_0.jsonl')), expected.get('telegram_0.jsonl'));
  // The torn half line stays on its own line (skipped as corrupt by readers), the rest follows.
  const got1 = lines(join(d, 'telegram_1.jsonl'));
  assert.equal(got1.length, 7);
  assert.deepEqual([got1[0], ...got1.slice(2)], expected.get('telegram_1.jsonl'));
  assert.deepEqual(lines(join(d, 'telegram_2.jsonl')), expected.get('telegram_2.jsonl'));
  assert.equal(size('telegram_3.jsonl'), before3, 'nothing written twice');
  assert.deepEqual(logs(d), [], 'the log is gone once replayed');
  // Again: nothing to do.
  assert.deepEqual(recoverCommitLogs(d, dead), { logs: 0, restored: 0 });
  // Readers see the records in order.
  assert.equal(new SessionStore(d).tail('telegram:2', 10).length, 6);
});

test('a store with a commit log replays leftovers at start (a kill -9 loses nothing, duplicates nothing)', async () => {
  const d = fresh();
  // A real process appends through a commit log and is killed before any checkpoint.
  const code = `
    const { SessionStore } = await import(${JSON.stringify(join(import.meta.dirname, '..', 'src', 'store', 'index.ts'))});
    const store = new SessionStore(${JSON.stringify(d)}, { commitLog: true });
    for (let i = 0; i < 10; i++) await Promise.all([0, 1, 2, 3, 4].map((s) => store.appendDeferred('telegram:' + s, { role: 'user', content: 'm' + i, timestamp: '' })));
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`writer exited ${c}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  assert.equal(logs(d).length, 1, 'the killed writer left its log');
  const before = readdirSync(d).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(join(d, f), 'utf8'));
  const store = new SessionStore(d, { commitLog: true });
  assert.deepEqual(logs(d), [], 'replayed and deleted at start');
  const afterTexts = readdirSync(d).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(join(d, f), 'utf8'));
  assert.deepEqual(afterTexts, before, 'page cache survived a kill -9: nothing appended twice');
  assert.equal(store.tail('telegram:3', 100).length, 10);
  await store.close();
});

test('replaced, removed and live-owned sessions are left alone; a reused pid is not the writer', async () => {
  const d = fresh();
  const expected = await crashedStore(d, 3, 2);
  const [name] = logs(d);
  // telegram_0 replaced by the operator (another inode).
  const p0 = join(d, 'telegram_0.jsonl');
  writeFileSync(join(d, 'new.tmp'), '{"role":"user","content":"operator","timestamp":""}\n');
  renameSync(join(d, 'new.tmp'), p0);
  // A live owner: skipped.
  assert.deepEqual(recoverCommitLogs(d, () => true), { logs: 0, restored: 0 });
  assert.equal(logs(d).length, 1);
  // Our own pid from an earlier life (other start time): replayed.
  const old = name!.replace(/^\d+\.[0-9a-z]+\./, `${process.pid}.${Math.round(performance.timeOrigin - 60_000).toString(36)}.`);
  renameSync(join(commitLogDir(d), name!), join(commitLogDir(d), old));
  truncateSync(join(d, 'telegram_2.jsonl'), 0);
  const r = recoverCommitLogs(d);
  assert.equal(r.logs, 1);
  assert.deepEqual(lines(p0), ['{"role":"user","content":"operator","timestamp":""}'], 'a replaced file gets nothing');
  assert.deepEqual(lines(join(d, 'telegram_2.jsonl')), expected.get('telegram_2.jsonl'));
  // A file removed by the operator (its log entries start past 0) is not resurrected.
  const d3 = fresh();
  const store3 = new SessionStore(d3);
  await store3.append('telegram:0', rec(1)); // the file exists before the logging process starts
  await store3.close();
  await crashedStore(d3, 1, 1);
  rmSync(join(d3, 'telegram_0.jsonl'));
  assert.equal(recoverCommitLogs(d3, dead).restored, 0);
  assert.equal(existsSync(join(d3, 'telegram_0.jsonl')), false);
});

test('garbage, torn and hostile logs: what parses is replayed, nothing is written outside the sessions directory', async () => {
  const d = fresh();
  const dirLog = commitLogDir(d);
  mkdirSync(dirLog, { recursive: true });
  const good = '{"f":"ok.jsonl","i":1,"a":0,"n":1}\n{"role":"user","content":"kept","timestamp":""}\n';
  const cases = [
    good + '{"f":"ok.jsonl","i":1,"a":0,"n":2}\n{"role":"user"', // torn inside an entry
    '\u0000\u0001garbage\n' + good, // garbage first: nothing parses
    '{"f":"../escape.jsonl","i":1,"a":0,"n":1}\n{"x":1}\n',
    '{"f":"/etc/x.jsonl","i":1,"a":0,"n":1}\n{"x":1}\n',
    '{"f":".hidden.jsonl","i":1,"a":0,"n":1}\n{"x":1}\n',
    '{"f":"ok.jsonl","i":1,"a":0,"n":-3}\n',
    '{"f":"ok.jsonl","i":1,"a":"zero","n":1}\n{}\n',
    '',
  ];
  cases.forEach((text, i) => writeFileSync(join(dirLog, `99999999.abc.1.${i + 1}.log`), text));
  writeFileSync(join(dirLog, 'not-a-log.txt'), 'left alone');
  const r = recoverCommitLogs(d, dead);
  assert.equal(r.logs, cases.length);
  assert.equal(r.restored, 1);
  assert.deepEqual(lines(join(d, 'ok.jsonl')), ['{"role":"user","content":"kept","timestamp":""}']);
  assert.equal(existsSync(join(d, '..', 'escape.jsonl')), false);
  assert.equal(existsSync(join(d, '.hidden.jsonl')), false);
  assert.deepEqual(readdirSync(dirLog), ['not-a-log.txt']);
});

test('a log that cannot be replayed is kept and reported; the others are replayed', async () => {
  const d = fresh();
  await crashedStore(d, 1, 1);
  // A directory where a log should be: unreadable as a log.
  mkdirSync(join(commitLogDir(d), '99999998.abc.1.1.log'));
  const r = recoverCommitLogs(d, dead);
  assert.equal(r.logs, 1);
  assert.equal(r.failed?.length, 1);
  assert.match(r.failed![0]!.error, /EISDIR/);
  assert.deepEqual(readdirSync(commitLogDir(d)), ['99999998.abc.1.1.log'], 'kept; the good one replayed and deleted');
  // A store still starts, reporting it.
  const store = new SessionStore(d, { commitLog: true });
  await store.close();
});

test('more open sessions than the store keeps open: evicted files are flushed before they close', async () => {
  const d = fresh();
  const store = new SessionStore(d, { commitLog: true });
  const waits = [];
  for (let i = 0; i < 300; i++) waits.push(store.appendDeferred(`c:${i}`, rec(i)));
  await Promise.all(waits);
  await store.close();
  assert.deepEqual(logs(d), []);
  assert.equal(readdirSync(d).filter((f) => f.endsWith('.jsonl')).length, 300);
});

test('AppendFile: a close asked while flushes are pending or queued waits for them (never an fdatasync of a closed descriptor)', async () => {
  const d = fresh();
  for (let i = 0; i < 20; i++) {
    const f = new AppendFile(join(d, `race-${i}.jsonl`));
    f.append('{"a":1}\n', 0);
    const first = f.flush();
    await new Promise((r) => setImmediate(r)); // its fdatasync is running now
    const closed = first.then(() => f.close()); // as a store retires a file
    f.append('{"a":2}\n');
    const second = f.flush(); // queued behind the running one (a checkpoint), asked before the close
    await Promise.all([first, second, closed]);
    assert.equal(f.dirty, false);
    assert.throws(() => f.append('{"a":3}\n'), /closed file/);
  }
});
