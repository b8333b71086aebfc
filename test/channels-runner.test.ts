// The shared runner in-process, with an in-memory adapter at the transport boundary: per-chat
// order with cross-chat concurrency (no bound of its own: the runtime door has the one), friendly failures, duplicates,
// --max-messages, graceful stop with a slow turn, drain timeout, deferred replies, strangers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessControl, ChannelRunner, FRIENDLY_FAILURE, NotAcceptedError, PairingStore, type ChannelAdapter, type ChannelMessage, type TurnHandler } from '../src/channels/index.js';
import { setEventSink } from '../src/observe/index.js';
import { tempDir } from './helpers.js';

class MemoryAdapter implements ChannelAdapter {
  readonly name = 'telegram';
  sent: Array<{ chatId: string; text: string }> = [];
  typed: string[] = [];
  outcomes: Array<'handled' | 'not_accepted' | 'error'> = [];
  private deliver: ((m: ChannelMessage) => Promise<void>) | undefined;
  private readonly inflight: Promise<void>[] = [];
  private started!: () => void;
  readonly running = new Promise<void>((r) => (this.started = r));

  async run(onMessage: (m: ChannelMessage) => Promise<void>, signal: AbortSignal): Promise<void> {
    this.deliver = onMessage;
    this.started();
    await new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
    await Promise.allSettled(this.inflight);
  }
  push(chatId: string, text: string, extra: Partial<ChannelMessage> = {}): Promise<void> {
    const p = this.deliver!({ channel: 'telegram', chatId, senderId: chatId, text, ...extra }).then(
      () => void this.outcomes.push('handled'),
      (err) => void this.outcomes.push(err instanceof NotAcceptedError ? 'not_accepted' : 'error'),
    );
    this.inflight.push(p);
    return p;
  }
  async send(chatId: string, text: string): Promise<void> {
    this.sent.push({ chatId, text });
  }
  async typing(chatId: string): Promise<void> {
    this.typed.push(chatId);
  }
  isReady(): boolean {
    return true;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(handle: TurnHandler, opts: { maxMessages?: number; drainMs?: number; policy?: 'open' | 'pairing' } = {}) {
  const { dir, cleanup } = tempDir();
  const adapter = new MemoryAdapter();
  const access = new AccessControl({ channel: 'telegram', policy: opts.policy ?? 'open', allowFrom: [], store: new PairingStore(dir) });
  const runner = new ChannelRunner({ adapter, access, handle, maxMessages: opts.maxMessages, drainMs: opts.drainMs });
  const events: Array<Record<string, unknown>> = [];
  const prev = setEventSink((l) => events.push(JSON.parse(l)));
  const stop = new AbortController();
  const done = runner.run(stop.signal);
  return { adapter, runner, events, stop, done, cleanup: () => (setEventSink(prev), cleanup()) };
}

test('one chat in order, other chats not held up by a slow one', async () => {
  const log: string[] = [];
  let active = 0;
  let maxActive = 0;
  const perChat = new Map<string, number>();
  // Chat A's first turn ends only after B's turn did: B is not held up behind A (an event, not a sleep).
  let bDone!: () => void;
  const bFinished = new Promise<void>((r) => (bDone = r));
  const t = setup(async ({ chatId, text }) => {
    active++;
    maxActive = Math.max(maxActive, active);
    perChat.set(chatId, (perChat.get(chatId) ?? 0) + 1);
    assert.equal(perChat.get(chatId), 1, 'never two turns of one chat at once');
    log.push(`start ${text}`);
    if (text === 'a1') await bFinished;
    await new Promise((r) => setImmediate(r));
    log.push(`end ${text}`);
    if (text === 'b1') bDone();
    perChat.set(chatId, 0);
    active--;
    return { status: 'ok', text: `re ${text}` };
  });
  try {
    await t.adapter.running;
    const all = [t.adapter.push('A', 'a1'), t.adapter.push('A', 'a2'), t.adapter.push('B', 'b1'), t.adapter.push('A', 'a3')];
    await Promise.all(all);
    const order = t.adapter.sent.map((s) => s.text);
    assert.deepEqual(order.filter((x) => x.startsWith('re a')), ['re a1', 're a2', 're a3']);
    assert.ok(order.indexOf('re b1') < order.indexOf('re a1'), `b1 first: ${order}`);
    assert.ok(maxActive >= 2);
    assert.ok(t.adapter.typed.includes('A'), 'typing shown');
    t.stop.abort();
    assert.deepEqual(await t.done, { reason: 'signal', turns: 4 });
  } finally {
    t.cleanup();
  }
});

test('chats run concurrently (the bound on turns at once is the runtime door\'s, not the runner\'s)', async () => {
  let active = 0;
  let maxActive = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const t = setup(async () => {
    active++;
    maxActive = Math.max(maxActive, active);
    if (active === 6) release();
    await gate;
    active--;
    return { status: 'ok', text: 'ok' };
  });
  try {
    await t.adapter.running;
    await Promise.all(['1', '2', '3', '4', '5', '6'].map((c) => t.adapter.push(c, 'x')));
    assert.equal(maxActive, 6);
    assert.equal(t.adapter.sent.length, 6);
    t.stop.abort();
    await t.done;
  } finally {
    t.cleanup();
  }
});

test('a failed turn sends a friendly message, never the internal error', async () => {
  const t = setup(async ({ text }) => {
    if (text === 'throw') throw new Error('provider exploded at /secret/path sk-abcdefghijkl');
    return { status: 'error', text: 'request_id=r-1: provider timeout after 3 attempts' };
  });
  try {
    await t.adapter.running;
    await t.adapter.push('C', 'hello');
    await t.adapter.push('C', 'throw');
    assert.deepEqual(t.adapter.sent.map((s) => s.text), [FRIENDLY_FAILURE, FRIENDLY_FAILURE]);
    assert.equal(t.events.filter((e) => e.event === 'channel_turn_error').length, 2);
    t.stop.abort();
    await t.done;
  } finally {
    t.cleanup();
  }
});

test('duplicate message ids are dropped', async () => {
  let turns = 0;
  const t = setup(async () => (turns++, { status: 'ok', text: 'once' }));
  try {
    await t.adapter.running;
    await t.adapter.push('D', 'x', { messageId: '7' });
    await t.adapter.push('D', 'x', { messageId: '7' });
    await t.adapter.push('E', 'x', { messageId: '7' });
    assert.equal(turns, 2, 'same id in another chat is a different message');
    const dup = t.events.find((e) => e.event === 'channel_duplicate' && e.chat_id === 'D');
    assert.deepEqual(dup && Object.keys(dup).sort(), ['channel', 'chat_id', 'event', 'message_id', 'update_id'], 'one channel_duplicate shape everywhere');
    t.stop.abort();
    await t.done;
  } finally {
    t.cleanup();
  }
});

test('--max-messages takes exactly N turns and leaves the rest unacknowledged', async () => {
  let turns = 0;
  const t = setup(async () => (turns++, await sleep(20), { status: 'ok', text: 'ok' }), { maxMessages: 2 });
  try {
    await t.adapter.running;
    await Promise.all([t.adapter.push('A', '1'), t.adapter.push('B', '2'), t.adapter.push('C', '3'), t.adapter.push('A', '4')]);
    const r = await t.done;
    assert.deepEqual(r, { reason: 'max_messages', turns: 2 });
    assert.equal(turns, 2);
    assert.equal(t.adapter.outcomes.filter((o) => o === 'not_accepted').length, 2);
    assert.deepEqual(t.events.filter((e) => e.event === 'channel_stop'), [{ event: 'channel_stop', channel: 'telegram', reason: 'max_messages' }]);
  } finally {
    t.cleanup();
  }
});

test('stop waits for an in-flight turn, and aborts one that outlives the drain', async () => {
  let started = 0;
  let release!: () => void;
  const slowGate = new Promise<void>((r) => (release = r));
  const t = setup(async ({ text, signal }) => {
    started++;
    if (text === 'slow') await slowGate;
    if (text === 'stuck') await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
    return signal.aborted ? { status: 'error', text: 'aborted' } : { status: 'ok', text: `done ${text}` };
  }, { drainMs: 400 });
  try {
    await t.adapter.running;
    const slow = t.adapter.push('S', 'slow');
    const stuck = t.adapter.push('T', 'stuck');
    while (started < 2) await new Promise((r) => setImmediate(r));
    t.stop.abort();
    // The slow turn finishes during the drain; the stuck one outlives it and is aborted.
    release();
    const late = t.adapter.push('U', 'after stop');
    await Promise.all([slow, stuck, late]);
    await t.done;
    assert.deepEqual(t.adapter.sent.find((s) => s.chatId === 'S'), { chatId: 'S', text: 'done slow' });
    assert.deepEqual(t.adapter.sent.find((s) => s.chatId === 'T'), { chatId: 'T', text: FRIENDLY_FAILURE });
    assert.ok(!t.adapter.sent.some((s) => s.chatId === 'U'));
    assert.ok(t.adapter.outcomes.includes('not_accepted'));
    const stopAt = t.events.findIndex((e) => e.event === 'channel_stop');
    assert.ok(stopAt > t.events.findIndex((e) => e.event === 'channel_turn_error'), 'channel_stop comes last');
  } finally {
    t.cleanup();
  }
});

test('deferred replies reach their chat; strangers get a pairing code and never reach the handler', async () => {
  let turns = 0;
  const t = setup(async () => (turns++, { status: 'ok', text: 'x' }), { policy: 'pairing' });
  try {
    await t.adapter.running;
    await t.runner.deliver('42', 'your codex task finished');
    assert.deepEqual(t.adapter.sent.at(-1), { chatId: '42', text: 'your codex task finished' });
    await t.adapter.push('99', 'let me in');
    assert.equal(turns, 0);
    assert.match(t.adapter.sent.at(-1)!.text, /pairing code is/);
    const access = t.events.find((e) => e.event === 'channel_access');
    assert.deepEqual({ ...access }, { event: 'channel_access', channel: 'telegram', chat_id: '99', decision: 'pairing', sender: '99', status: 'issued', notified: true });
    t.stop.abort();
    await t.done;
  } finally {
    t.cleanup();
  }
});
