// No wedge: chat turns through createApp/Runtime with the codex provider get queued when quota
// runs out, and once capacity returns (controllable clock) serve's one Codex drainer runs them in
// order and their answers reach the session file and then the chat through the one outbox.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { settingsFromEnv } from '../src/config/index.js';
import { createApp } from '../src/app/index.js';
import { buildServeComponents } from '../src/app/serve-components.js';
import { openDeliveringCodexPool } from '../src/app/codex.js';
import type { OutboxRecord } from '../src/store/index.js';
import { FAKE_CODEX, cleanEnv, tempDir } from './helpers.js';

async function waitFor(cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function settingsFor(dir: string) {
  const env = cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'codex', RUSTY_PINCH_CODEX_CLI_BIN: FAKE_CODEX, RUSTY_PINCH_CODEX_ACCOUNTS: 'a1||4', RUSTY_PINCH_CODEX_RATE_WINDOW_SECS: '3600' });
  return settingsFromEnv(env, dir);
}

test('queued chat turns are answered in their chat once capacity returns (serve drainer, deferred replies)', async () => {
  const { dir, cleanup } = tempDir('rp-brain-deferred-');
  let now = 50_000_000;
  const app = await createApp({ settings: settingsFor(dir), codexPool: { clock: () => now } });
  const stopAll: Array<() => Promise<void>> = [];
  try {
    assert.ok(app.codex, 'createApp wires the pool when the provider is codex');
    const got: OutboxRecord[] = [];
    const turn = (text: string) => app.runtime.handle({ sessionId: 'telegram:42', text, channel: 'telegram', chatId: '42' });
    for (let i = 1; i <= 3; i++) {
      const r = await turn(`hi ${i}`);
      assert.equal(r.status, 'ok', r.error);
      assert.equal(r.deferred, undefined);
      now += 1000;
    }
    const q4 = await turn('hi 4');
    assert.equal(q4.status, 'ok');
    assert.equal(q4.deferred, true);
    assert.match(q4.text, /queued/i);
    // Quota still out: the next turn waits behind the first (strict FIFO), not ahead of it.
    const q5 = await turn('hi 5');
    assert.equal(q5.deferred, true);

    const components = await buildServeComponents(app, { deliver: async (r) => void got.push(r), outboxPollMs: 50 });
    const drainer = components.find((c) => c.name === 'codex-drainer');
    assert.ok(drainer, 'serve gets the codex drainer');
    for (const c of components.filter((c) => c.name !== 'pulse')) {
      await c.start();
      stopAll.push(() => c.stop());
    }

    await new Promise((r) => setTimeout(r, 300));
    assert.equal(got.length, 0, 'nothing runs while the guard holds');
    now += 3600 * 1000; // the window rolls: capacity is back
    await waitFor(() => got.length === 2);
    assert.deepEqual(got.map((g) => g.request_id), [q4.requestId, q5.requestId]);
    for (const g of got) {
      assert.equal(g.kind, 'reply');
      assert.equal(g.session_id, 'telegram:42');
      assert.equal(g.channel, 'telegram');
      assert.equal(g.chat_id, '42');
      assert.match(g.text, /^fake codex saw:/);
    }
    const session = readFileSync(app.sessions.pathFor('telegram:42'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const deferred = session.filter((m) => m.deferred === true);
    assert.deepEqual(deferred.map((m) => m.request_id), [q4.requestId, q5.requestId]);
    assert.equal(((await app.codex.status()) as any).queue_depth, 0);
  } finally {
    for (const s of stopAll) await s();
    await app.close();
    cleanup();
  }
});

test('a chat task drained by another process: persisted there, then sent to the chat by serve (the one outbox)', async () => {
  const { dir, cleanup } = tempDir('rp-brain-outbox-');
  const settings = settingsFor(dir);
  let now = 70_000_000;
  const app = await createApp({ settings, codexPool: { clock: () => now } });
  try {
    // "Another process": the pool as `codex drain-one` opens it (no runtime, no channel).
    const other = await openDeliveringCodexPool(settings, { clock: () => now });
    for (let i = 0; i < 3; i++) await other.generate({ prompt: `fill ${i}`, purpose: 'p' });
    const q = await other.generate({ prompt: 'late question', purpose: 'provider_turn:telegram:7', sessionId: 'telegram:7', requestId: 'req-77', origin: { channel: 'telegram', chatId: '7' } });
    assert.equal(q.status, 'queued');
    now += 3600 * 1000;
    const d = (await other.drainOne()) as any;
    assert.equal(d.status, 'executed');
    const session = readFileSync(app.sessions.pathFor('telegram:7'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(session.at(-1).content, 'fake codex saw: late question');
    assert.equal(session.at(-1).request_id, 'req-77');

    const sent: Array<[string, string]> = [];
    const components = await buildServeComponents(app, { deliver: async (r) => void sent.push([`${r.channel}:${r.chat_id}`, r.text]), outboxPollMs: 50 });
    const outbox = components.find((c) => c.name === 'outbox')!;
    await outbox.start();
    try {
      await waitFor(() => sent.length === 1);
      assert.deepEqual(sent, [['telegram:7', 'fake codex saw: late question']]);
      // Delivered once: settled (gone from the outbox), and the session got no second copy.
      await waitFor(() => !app.outbox.hasEntries());
      assert.deepEqual(await app.outbox.list(), []);
      const again = readFileSync(app.sessions.pathFor('telegram:7'), 'utf8').trim().split('\n');
      assert.equal(again.length, session.length);
    } finally {
      await outbox.stop();
    }
  } finally {
    await app.close();
    cleanup();
  }
});

test('serve has no codex drainer when the provider is not codex and no queue exists', async () => {
  const { dir, cleanup } = tempDir('rp-brain-noserve-');
  const app = await createApp({ settings: settingsFromEnv(cleanEnv(dir), dir) });
  try {
    assert.equal(app.codex, undefined);
    assert.equal((await buildServeComponents(app, { deliver: async () => undefined })).some((c) => c.name === 'codex-drainer'), false);
  } finally {
    await app.close();
    cleanup();
  }
});
