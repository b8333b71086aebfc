// kill -9 during turns, then restart (issue 13 item 8), 20 cycles of `channels telegram` against
// the loopback Bot API fake and a slow OpenAI-compatible provider. The delivery rule is
// at-least-once (docs/delivery.md): nothing is lost, no session line is stored twice, no prompt
// carries a message twice, and a reply is sent twice only when the crash fell after Telegram
// took it and before the journal recorded the update as handled (the stored answer is re-sent,
// never a second model call).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, startCli, tempDir } from './helpers.js';
import { fakeTelegramEnv, startFakeTelegram } from './fakes/telegram-api.js';

const CYCLES = 20;

/** Answers `model: <last user text>` after a delay that varies per request (deterministic). */
async function slowProvider(): Promise<{ base: string; prompts: Array<Array<{ role: string; content: string }>>; requests: () => number; close(): Promise<void> }> {
  const prompts: Array<Array<{ role: string; content: string }>> = [];
  let n = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const msgs = (JSON.parse(body) as { messages: Array<{ role: string; content: string }> }).messages;
      prompts.push(msgs);
      const text = [...msgs].reverse().find((m) => m.role === 'user')?.content ?? '';
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'c', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: `model: ${text}` }, finish_reason: 'stop' }] }));
      }, 20 + ((n++ * 37) % 80));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return { base: `http://127.0.0.1:${port}/v1`, prompts, requests: () => prompts.length, close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

test(`kill -9 mid-turn, ${CYCLES} cycles: 0 lost, 0 duplicate session lines, duplicate replies only in the send window`, { timeout: 180_000 }, async () => {
  const { dir, cleanup } = tempDir();
  const fake = await startFakeTelegram();
  const provider = await slowProvider();
  const env = cleanEnv(dir, {
    RUSTY_PINCH_PROVIDER: 'openai',
    RUSTY_PINCH_OPENAI_API_BASE: provider.base,
    RUSTY_PINCH_API_KEY: 'sk-test-kill-cycles-0000',
    ...fakeTelegramEnv(fake),
    RUSTY_PINCH_REQUEST_RETRIES: '0',
  });
  const texts: string[] = [];
  const kills: number[] = [];
  try {
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const run = startCli(['channels', 'telegram'], env, 30_000);
      const polls = fake.calls.filter((c) => c.method === 'getUpdates').length;
      await fake.waitFor(() => fake.calls.filter((c) => c.method === 'getUpdates').length > polls, 15_000, 'polling');
      const sentBefore = fake.sent.length;
      const reqBefore = provider.requests();
      for (let k = 0; k < 3; k++) {
        const text = `c${cycle}-m${k}`;
        texts.push(text);
        fake.message({ chatId: 500 + (k % 2), text });
      }
      // Odd cycles: kill while a model call is in flight. Even cycles: right after a reply went
      // out (the window where at-least-once allows a duplicate).
      if (cycle % 2) await fake.waitFor(() => provider.requests() > reqBefore, 15_000, 'a model call');
      else await fake.waitFor(() => fake.sent.length > sentBefore, 15_000, 'a reply');
      await new Promise((r) => setTimeout(r, (cycle * 7) % 25));
      kills.push(Date.now());
      run.child.kill('SIGKILL');
      await run.result;
    }
    // A last run answers whatever is left, then stops cleanly.
    const last = startCli(['channels', 'telegram'], env, 60_000);
    const replied = (t: string): number => fake.sent.filter((s) => s.text === `model: ${t}`).length;
    await fake.waitFor(() => texts.every((t) => replied(t) >= 1), 60_000, 'every message answered');
    last.child.kill('SIGTERM');
    assert.equal((await last.result).code, 0);

    // 0 lost.
    const lost = texts.filter((t) => replied(t) === 0);
    assert.deepEqual(lost, []);
    // 0 duplicate session lines, no blank lines.
    const sessions = join(dir, 'data', 'sessions');
    for (const f of readdirSync(sessions).filter((x) => x.endsWith('.jsonl'))) {
      const lines = readFileSync(join(sessions, f), 'utf8').split('\n').slice(0, -1);
      assert.ok(lines.every((l) => l.trim() !== ''), `blank line in ${f}`);
      const recs = lines.map((l) => JSON.parse(l) as { role: string; content: string; message_id?: string; request_id?: string });
      const users = recs.filter((r) => r.role === 'user').map((r) => r.content);
      assert.equal(new Set(users).size, users.length, `user line stored twice in ${f}: ${users.join(',')}`);
      const answers = recs.filter((r) => r.role === 'assistant').map((r) => r.request_id);
      assert.equal(new Set(answers).size, answers.length, `answer stored twice in ${f}`);
      assert.ok(recs.filter((r) => r.role === 'user').every((r) => typeof r.message_id === 'string'));
    }
    // Each start replayed the commit logs the killed runs left (src/store/commit-log.ts), and the
    // clean stop checkpointed its own: none is left.
    const logDir = join(sessions, '.commit-log');
    assert.deepEqual(existsSync(logDir) ? readdirSync(logDir) : [], []);
    // No prompt carried a message twice.
    for (const p of provider.prompts) {
      const contents = p.filter((m) => m.role === 'user').map((m) => m.content);
      assert.equal(new Set(contents).size, contents.length, `a prompt repeats a message: ${contents.join(',')}`);
    }
    // Duplicate replies: only the stored answer re-sent, and only when its first copy went out
    // before a kill (the crash fell in the send window).
    const dups = texts.filter((t) => replied(t) > 1);
    for (const t of dups) {
      const first = fake.sent.find((s) => s.text === `model: ${t}`)!;
      assert.ok(kills.some((k) => k >= first.at), `duplicate of ${t} without a crash after its first send`);
    }
    console.log(`# kill cycles: ${CYCLES}, messages ${texts.length}, lost ${lost.length}, duplicate replies ${dups.length} (all in the send window)`);
  } finally {
    await fake.close();
    await provider.close();
    cleanup();
  }
});
