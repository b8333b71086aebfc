// A power cut under load, simulated: `channels telegram` answers messages from many chats at once
// (their session lines group-committed through the commit log, src/store/commit-log.ts), is
// killed with -9 before a checkpoint, and the session files then lose what the page cache held
// (truncated, as after a power cut). The next start replays the log: every exchange is back,
// once, and a reply sent again (the kill took its `handled` line) is the stored answer, never a
// second turn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, events, startCli, tempDir } from './helpers.js';
import { parseCommitLog } from '../src/store/commit-log.js';
import { fakeTelegramEnv, startFakeTelegram } from './fakes/telegram-api.js';

const CHATS = 12;

test('kill -9 and lost session tails after a burst from many chats: the next start restores every exchange once', { timeout: 120_000 }, async () => {
  const { dir, cleanup } = tempDir('rp-power-cut-');
  const fake = await startFakeTelegram();
  const env = cleanEnv(dir, fakeTelegramEnv(fake));
  const sessions = join(dir, 'data', 'sessions');
  const logDir = join(sessions, '.commit-log');
  try {
    const run = startCli(['channels', 'telegram'], env, 60_000);
    await fake.waitFor(() => fake.calls.some((c) => c.method === 'getUpdates'), 20_000, 'polling');
    for (let i = 0; i < CHATS; i++) fake.message({ chatId: 700 + i, text: `burst ${i}` });
    await fake.waitFor(() => fake.sent.length >= CHATS, 30_000, 'every reply');
    const files = () => readdirSync(sessions).filter((f) => f.endsWith('.jsonl')).sort();
    const before = new Map(files().map((f) => [f, readFileSync(join(sessions, f), 'utf8')]));
    assert.equal(before.size, CHATS);
    assert.ok(existsSync(logDir) && readdirSync(logDir).some((f) => f.endsWith('.log')), 'the burst went through the commit log');
    // Only what was never flushed can be lost: the files whose every line is in a commit log (a
    // loop turn with few files flushes them directly, and a flushed line survives a power cut).
    const logged = new Map<string, number>();
    for (const f of readdirSync(logDir)) for (const e of parseCommitLog(readFileSync(join(logDir, f), 'utf8'))) logged.set(e.file, (logged.get(e.file) ?? 0) + e.lines.length);
    const unflushed = files().filter((f) => logged.get(f) === before.get(f)!.split('\n').filter(Boolean).length);
    assert.ok(unflushed.length >= 4, `files only in the log: ${unflushed.join(', ')}`);
    run.child.kill('SIGKILL');
    await run.result;
    // The power cut: half of them lost everything since their creation, the rest their last line.
    unflushed.forEach((f, i) => {
      const text = before.get(f)!;
      truncateSync(join(sessions, f), i % 2 ? 0 : Buffer.byteLength(text.slice(0, text.trimEnd().lastIndexOf('\n') + 1)));
    });

    const again = startCli(['channels', 'telegram'], env, 60_000);
    const polls = fake.calls.filter((c) => c.method === 'getUpdates').length;
    await fake.waitFor(() => fake.calls.filter((c) => c.method === 'getUpdates').length > polls + 1, 20_000, 'polling again');
    again.child.kill('SIGTERM');
    const r = await again.result;
    assert.equal(r.code, 0, r.stderr);
    const recovered = events(r.stderr).find((e) => e.event === 'session_commit_log_recovered');
    assert.ok(recovered, r.stderr);
    assert.ok(Number(recovered.restored_lines) >= unflushed.length, `restored ${String(recovered.restored_lines)}`);
    for (const [f, text] of before) assert.equal(readFileSync(join(sessions, f), 'utf8'), text, `${f} restored exactly`);
    // Replies whose `handled` line the kill took are sent again (the documented at-least-once
    // window, docs/delivery.md), from the restored answer: never a second turn.
    const replays = events(r.stderr).filter((e) => e.event === 'turn_replay');
    assert.ok(replays.every((e) => e.action === 'resend_stored_answer'), JSON.stringify(replays));
    assert.equal(fake.sent.length, CHATS + replays.length);
    assert.deepEqual(existsSync(logDir) ? readdirSync(logDir) : [], [], 'replayed logs are gone');
  } finally {
    await fake.close();
    cleanup();
  }
});
