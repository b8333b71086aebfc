// The Telegram journal: a v1 snapshot plus an append-only log. Per message only a few hundred
// bytes are written; a crash replays the log exactly; the log is folded into the snapshot when
// it grows and on a clean stop; the first journal's file (snapshot only) loads unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TelegramJournal } from '../src/channels/index.js';
import type { ChannelMessage } from '../src/channels/index.js';
import { setEventSink } from '../src/observe/index.js';
import { tempDir } from './helpers.js';

const msg = (chatId: string, text: string, messageId = '1'): ChannelMessage => ({ channel: 'telegram', chatId, senderId: chatId, text, messageId });

test('received and handled updates go to the log (small lines), and a new process replays them exactly', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const j = new TelegramJournal(dir);
    const s = j.load('42');
    await j.received([[100, msg('1', 'hello')], [101, msg('2', 'world')]], 102);
    await j.received([], 105); // skipped updates move the offset only
    await j.handled(100);
    const perMessage = statSync(j.logPath).size / 2;
    assert.ok(perMessage < 400, `log bytes per message ${perMessage}`);
    assert.ok(!existsSync(j.path), 'no snapshot rewrite per message');
    assert.equal(s.offset, 0); // the caller's state is the caller's
    // "kill -9": no close, no compaction. Another instance reads snapshot + log.
    const again = new TelegramJournal(dir).load('42');
    assert.equal(again.offset, 105);
    assert.deepEqual([...again.pending.keys()], [101]);
    assert.equal(again.pending.get(101)!.text, 'world');
    // A different bot ignores the log.
    assert.equal(new TelegramJournal(join(dir, 'other')).load('42').offset, 0);
    await j.close();
  } finally {
    cleanup();
  }
});

test('a partial last log line is not there yet; a corrupt complete line is skipped with a warning', async () => {
  const { dir, cleanup } = tempDir();
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  try {
    const j = new TelegramJournal(dir);
    j.load('42');
    await j.received([[7, msg('1', 'a')]], 8);
    await j.close();
    appendFileSync(j.logPath, '{"d":7'); // torn: the handled line never finished
    const s = new TelegramJournal(dir).load('42');
    assert.deepEqual([...s.pending.keys()], [7]);
    assert.equal(lines.filter((l) => l.includes('warning')).length, 0, 'a partial line is silent');
    appendFileSync(j.logPath, '\ngarbage\n{"d":7}\n');
    const t = new TelegramJournal(dir).load('42');
    assert.equal(t.pending.size, 0);
    assert.ok(lines.some((l) => l.includes('unreadable lines')));
  } finally {
    setEventSink(prev);
    cleanup();
  }
});

test('compaction folds the log into the v1 snapshot and empties it; replay after a crash mid-compaction is harmless', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const j = new TelegramJournal(dir, { compactBytes: 64 * 1024 });
    const state = j.load('42');
    let id = 1;
    while (!j.wantsCompaction) {
      const m = msg(String(id % 50), 'x'.repeat(200), String(id));
      await j.received([[id, m]], id + 1);
      state.offset = id + 1;
      state.pending.set(id, m);
      if (id % 3 !== 0) {
        await j.handled(id);
        state.pending.delete(id);
      }
      id++;
    }
    const logBefore = readFileSync(j.logPath, 'utf8');
    j.compact(state);
    assert.equal(statSync(j.logPath).size, 0);
    const snap = JSON.parse(readFileSync(j.path, 'utf8'));
    assert.equal(snap.version, 1);
    assert.equal(snap.bot_id, '42');
    assert.equal(snap.offset, id);
    assert.equal(snap.pending.length, state.pending.size);
    // Crash between the snapshot's rename and the log's truncation: the old log replays onto it.
    writeFileSync(j.logPath, logBefore);
    const replayed = new TelegramJournal(dir).load('42');
    assert.equal(replayed.offset, id);
    assert.deepEqual([...replayed.pending.keys()].sort((a, b) => a - b), [...state.pending.keys()].sort((a, b) => a - b));
    await j.close();
  } finally {
    cleanup();
  }
});

test('the first journal format (a v1 snapshot, pretty JSON, no log) loads as before', async () => {
  const { dir, cleanup } = tempDir();
  try {
    mkdirSync(join(dir, 'channels'), { recursive: true });
    const old = { version: 1, bot_id: '42', offset: 500, pending: [{ update_id: 499, message: msg('9', 'left over') }], updated_at: '2026-01-01T00:00:00Z' };
    writeFileSync(join(dir, 'channels', 'telegram-offset.json'), JSON.stringify(old, null, 2) + '\n');
    const j = new TelegramJournal(dir);
    const s = j.load('42');
    assert.equal(s.offset, 500);
    assert.equal(s.pending.get(499)!.text, 'left over');
    await j.handled(499);
    assert.equal(new TelegramJournal(dir).load('42').pending.size, 0);
    await j.close();
  } finally {
    cleanup();
  }
});
