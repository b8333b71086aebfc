// No wedge: chat turns through createApp/Runtime with the codex provider get queued when quota
// runs out, and once capacity returns (controllable clock) the serve drainer runs them in order
// and their answers reach the chat through the deferred-reply path and the session file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { settingsFromEnv } from '../src/config/index.js';
import { createApp } from '../src/core/index.js';
import { buildServeComponents } from '../src/core/serve-components.js';
import { openCodexPool } from '../src/brain/index.js';
import type { DeferredReply } from '../src/kernel/index.js';
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
    const got: DeferredReply[] = [];
    app.runtime.onDeferredReply((r) => got.push(r));
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

    const components = await buildServeComponents(app);
    const drainer = components.find((c) => c.name === 'codex-drainer');
    assert.ok(drainer, 'serve gets the codex drainer');
    const ac = new AbortController();
    await drainer.start({ app, signal: ac.signal, notify: async () => {} });
    stopAll.push(() => drainer.stop());

    await new Promise((r) => setTimeout(r, 300));
    assert.equal(got.length, 0, 'nothing runs while the guard holds');
    now += 3600 * 1000; // the window rolls: capacity is back
    await waitFor(() => got.length === 2);
    assert.deepEqual(got.map((g) => g.requestId), [q4.requestId, q5.requestId]);
    for (const g of got) {
      assert.equal(g.sessionId, 'telegram:42');
      assert.equal(g.channel, 'telegram');
      assert.equal(g.chatId, '42');
      assert.match(g.text, /^fake codex saw:/);
    }
    const session = readFileSync(app.runtime.sessions.pathFor('telegram:42'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const deferred = session.filter((m) => m.deferred === true);
    assert.deepEqual(deferred.map((m) => m.request_id), [q4.requestId, q5.requestId]);
    assert.equal(((await app.codex.status()) as any).queue_depth, 0);
  } finally {
    for (const s of stopAll) await s();
    await app.close();
    cleanup();
  }
});

test('a chat task drained by another process: persisted there, then sent to the chat by serve (outbox)', async () => {
  const { dir, cleanup } = tempDir('rp-brain-outbox-');
  const settings = settingsFor(dir);
  let now = 70_000_000;
  const app = await createApp({ settings, codexPool: { clock: () => now } });
  try {
    // "Another process": a pool with no delivery hook (as `codex drain-one` has).
    const other = openCodexPool(settings, { clock: () => now });
    for (let i = 0; i < 3; i++) await other.generate({ prompt: `fill ${i}`, purpose: 'p' });
    const q = await other.generate({ prompt: 'late question', purpose: 'provider_turn:telegram:7', sessionId: 'telegram:7', requestId: 'req-77', origin: { channel: 'telegram', chatId: '7' } });
    assert.equal(q.status, 'queued');
    now += 3600 * 1000;
    const d = (await other.drainOne()) as any;
    assert.equal(d.status, 'executed');
    const session = readFileSync(app.runtime.sessions.pathFor('telegram:7'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(session.at(-1).content, 'fake codex saw: late question');
    assert.equal(session.at(-1).request_id, 'req-77');

    const sent: Array<[string, string]> = [];
    const components = await buildServeComponents(app);
    const drainer = components.find((c) => c.name === 'codex-drainer')!;
    await drainer.start({ app, signal: new AbortController().signal, notify: async (target, text) => void sent.push([target, text]) });
    try {
      await waitFor(() => sent.length === 1);
      assert.deepEqual(sent, [['telegram:7', 'fake codex saw: late question']]);
      // Delivered once: the session got no second copy.
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(sent.length, 1);
      const again = readFileSync(app.runtime.sessions.pathFor('telegram:7'), 'utf8').trim().split('\n');
      assert.equal(again.length, session.length);
    } finally {
      await drainer.stop();
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
    assert.equal((await buildServeComponents(app)).some((c) => c.name === 'codex-drainer'), false);
    // Nor does its Pulse schedule a codex job (issue 13 #16: serve spawns no codex at all).
    const { openWiredPulse } = await import('../src/core/pulse-wiring.js');
    const pulse = await openWiredPulse({ settings: app.settings, app: async () => app, telemetry: app.runtime.telemetry });
    const jobs = JSON.stringify(pulse.view().jobs);
    assert.doesNotMatch(jobs, /codex/);
    // Configured accounts are codex work even with another provider: the jobs come back.
    const withAccounts = settingsFromEnv(cleanEnv(dir, { RUSTY_PINCH_CODEX_ACCOUNTS: 'a1||5' }), dir);
    const p2 = await openWiredPulse({ settings: withAccounts, app: async () => app, telemetry: app.runtime.telemetry });
    assert.match(JSON.stringify(p2.view().jobs), /codex-healthcheck/);
  } finally {
    await app.close();
    cleanup();
  }
});
