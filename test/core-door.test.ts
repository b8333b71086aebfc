// The one door and the one road out, in-process: Pulse's orient step and its approved actions
// are turns like any other (session, `event=turn`, telemetry); late messages go through the one
// durable outbox, whose drainer retries, drops after its budget, keeps order per chat and loses
// nothing across a restart; what older versions left (codex outbox, pending Pulse notifications)
// moves into it once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../src/app/index.js';
import { buildServeComponents } from '../src/app/serve-components.js';
import { settingsFromEnv } from '../src/config/index.js';
import { setEventSink } from '../src/observe/index.js';
import { runOodaCycle } from '../src/pulse/index.js';
import { Outbox, OutboxDrainer, type OutboxRecord } from '../src/store/index.js';
import { AccessControl, ChannelRunner, PairingStore, type ChannelAdapter } from '../src/channels/index.js';
import type { Provider, ProviderRequest, ProviderResult } from '../src/providers/index.js';
import { tempDir } from './helpers.js';

class ScriptedProvider implements Provider {
  readonly name = 'openai';
  readonly model = 'scripted';
  readonly nativeTools = false;
  readonly seen: ProviderRequest[] = [];
  constructor(private readonly impl: (req: ProviderRequest) => Promise<ProviderResult>) {}
  async complete(req: ProviderRequest): Promise<ProviderResult> {
    this.seen.push(req);
    return this.impl(req);
  }
}

function setup(env: Record<string, string> = {}) {
  const t = tempDir('rp-door-');
  const settings = settingsFromEnv({ RUSTY_PINCH_PROVIDER: 'openai', RUSTY_PINCH_MODEL: 'scripted', RUSTY_PINCH_DATA_DIR: join(t.dir, 'data'), RUSTY_PINCH_WORKSPACE: join(t.dir, 'ws'), RUSTY_PINCH_SESSION_FSYNC: 'false', ...env }, t.dir);
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  const events = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { ...t, settings, events, done: () => (setEventSink(prev), t.cleanup()) };
}

async function waitFor(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("Pulse's orient step is a turn at the door: session, event=turn and telemetry like a chat turn", async () => {
  const s = setup();
  const provider = new ScriptedProvider(async () => ({ content: 'disk is filling; watch it', attempts: 1, latencyMs: 3 }));
  const app = await createApp({ settings: s.settings, provider });
  try {
    const pulse = await app.pulse();
    assert.equal(await app.pulse(), pulse, 'one PulseService per app');
    const report = await runOodaCycle(pulse, { action: 'log disk check', observations: [{ source: 'disk', key: 'usage', value: '91%', severity: 'warning' }] });
    assert.equal(report.orientation_source, 'model');
    assert.match(report.orientation, /model: disk is filling; watch it$/);
    assert.equal(provider.seen.length, 1);
    assert.equal(provider.seen[0]!.purpose, 'pulse_ooda');
    assert.equal(provider.seen[0]!.messages[0]!.role, 'system');
    assert.match(provider.seen[0]!.messages[0]!.content, /assess operational observations/);

    const records = app.sessions.all('pulse');
    assert.deepEqual(records.map((r) => r.role), ['user', 'assistant']);
    assert.match(records[0]!.content, /91%/);
    assert.equal(records[1]!.content, 'disk is filling; watch it');
    const turns = s.events().filter((e) => e.event === 'turn');
    assert.equal(turns.length, 1);
    assert.deepEqual({ session: turns[0]!.session_id, path: turns[0]!.path, status: turns[0]!.status, request: turns[0]!.request_id }, { session: 'pulse', path: 'provider', status: 'ok', request: records[0]!.request_id });
    await app.close();
    const snap = app.telemetry.read();
    assert.equal(snap.total_turns, 1);
    assert.equal(snap.provider_turns, 1);
    assert.equal(snap.last_turn?.session_id, 'pulse');
  } finally {
    s.done();
  }
});

test('an approved tool continues its turn at the door; a skill run is a skill turn; bad input is a failed turn', async () => {
  const s = setup();
  const app = await createApp({ settings: s.settings, provider: new ScriptedProvider(async () => ({ content: 'x', attempts: 1, latencyMs: 1 })) });
  try {
    const pulse = await app.pulse();
    const out = await pulse.callbacks.runTool!({ name: 'time_now', args: '', session_id: 'telegram:5', request_id: 'rp-orig' });
    assert.match(out, /\d{4}-\d{2}-\d{2}/);
    const recs = app.sessions.all('telegram:5');
    assert.equal(recs.length, 1, 'a continuation writes no user record');
    assert.equal(recs[0]!.role, 'assistant');
    assert.equal(recs[0]!.request_id, 'rp-orig');
    assert.match(recs[0]!.content, /^\[tool:time_now approved\]\n/);
    await assert.rejects(pulse.callbacks.runTool!({ name: 'no_such_tool', args: '', session_id: 'telegram:5', request_id: 'rp-2' }));
    assert.match(app.sessions.all('telegram:5').at(-1)!.content, /^\[tool:no_such_tool approved\] error: /);
    const bad = await app.runtime.act({ sessionId: '../etc', kind: 'skill', name: 'x', args: '' });
    assert.equal(bad.status, 'error');
    const turns = s.events().filter((e) => e.event === 'turn');
    assert.deepEqual(turns.map((t) => [t.path, t.status]), [['tool', 'ok'], ['tool', 'error'], ['skill', 'error']]);
    await app.close();
  } finally {
    s.done();
  }
});

test('the bound on turns at once is the runtime door\'s, across every kind of work', async () => {
  const s = setup({ RUSTY_PINCH_MAX_CONCURRENT_TURNS: '2' });
  let active = 0;
  let max = 0;
  const provider = new ScriptedProvider(async () => {
    max = Math.max(max, ++active);
    await new Promise((r) => setTimeout(r, 20));
    active--;
    return { content: 'ok', attempts: 1, latencyMs: 1 };
  });
  const app = await createApp({ settings: s.settings, provider });
  try {
    const work = [
      ...['a', 'b', 'c'].map((id) => app.runtime.handle({ sessionId: id, text: 'hi' })),
      ...['p1', 'p2', 'p3'].map((id) => app.runtime.agent({ sessionId: id, purpose: 'test', instructions: 'be brief', prompt: 'hi' })),
    ];
    const replies = await Promise.all(work);
    assert.ok(replies.every((r) => r.status === 'ok'));
    assert.equal(max, 2);
    await app.close();
  } finally {
    s.done();
  }
});

test('outbox drainer: retries a failed delivery with backoff, keeps order per chat, drops after its budget', async () => {
  const s = setup();
  try {
    const outbox = new Outbox(s.settings.workspace);
    await outbox.enqueue({ kind: 'notification', channel: 'telegram', chatId: '1', text: 'first' });
    await outbox.enqueue({ kind: 'notification', channel: 'telegram', chatId: '1', text: 'second' });
    await outbox.enqueue({ kind: 'reply', channel: 'telegram', chatId: '2', text: 'never' });
    const sent: string[] = [];
    let failFirst = 1;
    const drainer = new OutboxDrainer(outbox, {
      deliver: async (r: OutboxRecord) => {
        if (r.chat_id === '2') throw new Error('chat gone');
        if (r.text === 'first' && failFirst-- > 0) throw new Error('network down');
        sent.push(r.text);
      },
      pollMs: 20,
      retryBaseMs: 20,
      retryMaxMs: 40,
      maxAttempts: 3,
    });
    await drainer.start();
    await waitFor(async () => (await outbox.list()).length === 0);
    await drainer.stop();
    assert.deepEqual(sent, ['first', 'second'], 'second waits behind the retried first');
    const ev = s.events();
    assert.equal(ev.filter((e) => e.event === 'outbox_retry').length, 1 + 2);
    assert.deepEqual(ev.filter((e) => e.event === 'outbox_dropped').map((e) => [e.chat_id, e.attempts]), [['2', 3]]);
    assert.equal(ev.filter((e) => e.event === 'outbox_delivered').length, 2);
  } finally {
    s.done();
  }
});

test('outbox: nothing is lost across a restart; garbage lines are skipped; foreign channels stay', async () => {
  const s = setup();
  try {
    const a = new Outbox(s.settings.workspace);
    await a.enqueue({ kind: 'approval', channel: 'telegram', chatId: '9', text: 'approve pa-1?' });
    await a.enqueue({ kind: 'reply', channel: 'whatsapp', chatId: 'w', text: 'for whatsapp' });
    writeFileSync(a.path, readFileSync(a.path, 'utf8') + 'not json\n{"id":1}\n');
    // "Crash": a drainer that never got to deliver. A new process sees the same records.
    const b = new Outbox(s.settings.workspace);
    assert.deepEqual((await b.list()).map((r) => r.text), ['approve pa-1?', 'for whatsapp']);
    const sent: string[] = [];
    const drainer = new OutboxDrainer(b, { deliver: async (r) => void sent.push(r.text), accepts: (c) => c === 'telegram', pollMs: 20 });
    await drainer.start();
    await waitFor(() => sent.length === 1);
    await waitFor(async () => (await b.list()).length === 1);
    await drainer.stop();
    assert.deepEqual((await b.list()).map((r) => r.channel), ['whatsapp']);
    assert.ok(s.events().some((e) => e.event === 'warning' && /outbox line/.test(String(e.message))));
  } finally {
    s.done();
  }
});

test('serve migrates what older versions left: the codex outbox file and pending Pulse notifications', async () => {
  const s = setup({ RUSTY_PINCH_PULSE_NOTIFY: 'telegram:42' });
  const ws = s.settings.workspace;
  mkdirSync(join(ws, 'codex'), { recursive: true });
  writeFileSync(join(ws, 'codex', 'outbox.jsonl'), JSON.stringify({ session_id: 'telegram:7', channel: 'telegram', chat_id: '7', request_id: 'rp-old', text: 'old answer', task_id: 3, created_at: '2026-01-01T00:00:00+00:00' }) + '\ngarbage\n');
  mkdirSync(join(ws, 'pulse'), { recursive: true });
  writeFileSync(
    join(ws, 'pulse', 'state.json'),
    JSON.stringify({ updated_at: '2026-01-01T00:00:00+00:00', jobs: [], pending_approvals: [], goals: [], approval_history: [], removed_default_jobs: [], last_tick: null, notifications: [{ id: 'pn-1', created_at: '2026-01-01T00:00:00+00:00', target: 'telegram:42', text: 'old notice', status: 'pending' }] }),
  );
  const app = await createApp({ settings: s.settings, provider: new ScriptedProvider(async () => ({ content: 'x', attempts: 1, latencyMs: 1 })) });
  const sent: Array<[string, string]> = [];
  const components = await buildServeComponents(app, { deliver: async (r) => void sent.push([`${r.channel}:${r.chat_id}`, r.text]), outboxPollMs: 20 });
  try {
    for (const c of components) await c.start();
    await waitFor(() => sent.length === 2);
    assert.deepEqual(sent.sort(), [['telegram:42', 'old notice'], ['telegram:7', 'old answer']]);
    assert.equal(existsSync(join(ws, 'codex', 'outbox.jsonl')), false);
    const state = JSON.parse(readFileSync(join(ws, 'pulse', 'state.json'), 'utf8'));
    assert.equal(state.notifications[0].status, 'queued');
  } finally {
    for (const c of components.reverse()) await c.stop();
    await app.close();
    s.done();
  }
});

test('a pending approval is announced to the notify targets through the outbox', async () => {
  const s = setup({ RUSTY_PINCH_PULSE_NOTIFY: 'telegram:42' });
  const app = await createApp({ settings: s.settings, provider: new ScriptedProvider(async () => ({ content: 'looks risky', attempts: 1, latencyMs: 1 })) });
  try {
    const report = await runOodaCycle(await app.pulse(), { action: 'deploy production', observations: [] });
    assert.equal(report.approval_status, 'pending');
    const out = await app.outbox.list();
    assert.deepEqual(out.map((r) => [r.kind, r.channel, r.chat_id]), [['approval', 'telegram', '42']]);
    assert.match(out[0]!.text, new RegExp(`pulse approve --token ${report.approval_token}`));
    await app.close();
  } finally {
    s.done();
  }
});

test("the runner's deliver (the road's last step) rejects when the send failed, so the outbox retries it", async () => {
  const s = setup();
  let fail = true;
  const sent: string[] = [];
  const adapter: ChannelAdapter = {
    name: 'telegram',
    run: (_on, signal) => new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true }))),
    send: async (_chat, text) => {
      if (fail) throw new Error('telegram down');
      sent.push(text);
    },
    isReady: () => true,
  };
  const runner = new ChannelRunner({ adapter, access: new AccessControl({ channel: 'telegram', policy: 'open', allowFrom: [], store: new PairingStore(s.dir) }), handle: async () => ({ status: 'ok', text: 'x' }) });
  const stop = new AbortController();
  const done = runner.run(stop.signal);
  try {
    await assert.rejects(runner.deliver('1', 'late'), /telegram down/);
    fail = false;
    await runner.deliver('1', 'late');
    assert.deepEqual(sent, ['late']);
    assert.equal(runner.stats.sendErrors, 1);
  } finally {
    stop.abort();
    await done;
    s.done();
  }
});

test('two drainers on one outbox (serve and a foreground channel): every record is sent once', async () => {
  const s = setup();
  try {
    const outbox = new Outbox(s.settings.workspace);
    for (let i = 0; i < 20; i++) await outbox.enqueue({ kind: 'notification', channel: 'telegram', chatId: String(i % 3), text: `n${i}` });
    const sent: string[] = [];
    const deliver = async (r: OutboxRecord) => {
      await new Promise((res) => setTimeout(res, 2));
      sent.push(r.text);
    };
    const a = new OutboxDrainer(new Outbox(s.settings.workspace), { deliver, pollMs: 10 });
    const b = new OutboxDrainer(new Outbox(s.settings.workspace), { deliver, pollMs: 10 });
    await Promise.all([a.start(), b.start()]);
    await waitFor(async () => !outbox.hasEntries());
    await Promise.all([a.stop(), b.stop()]);
    assert.equal(sent.length, 20);
    assert.equal(new Set(sent).size, 20);
  } finally {
    s.done();
  }
});
