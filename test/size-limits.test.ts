// Issue 13 item 11: inbound messages are capped (RUSTY_PINCH_MAX_MESSAGE_BYTES) at every door
// with a clear answer and nothing stored, and the history sent to the model is bounded by size
// (RUSTY_PINCH_HISTORY_MAX_BYTES) as well as by count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../src/app/index.js';
import { boundHistoryBytes } from '../src/core/history-budget.js';
import { settingsFromEnv } from '../src/config/index.js';
import { setEventSink } from '../src/observe/index.js';
import { AccessControl, ChannelRunner, PairingStore, type ChannelAdapter, type ChannelMessage } from '../src/channels/index.js';
import type { Provider, ProviderRequest, ProviderResult } from '../src/providers/index.js';
import { cleanEnv, runCli, tempDir } from './helpers.js';

class Recorder implements Provider {
  readonly name = 'local';
  readonly model = 'rec';
  readonly nativeTools = false;
  readonly seen: ProviderRequest[] = [];
  async complete(req: ProviderRequest): Promise<ProviderResult> {
    this.seen.push(req);
    return { content: 'ok', attempts: 1, latencyMs: 1 };
  }
}

const rec = (content: string, role = 'user') => ({ role, content, timestamp: 't' });

test('boundHistoryBytes keeps the newest messages that fit, and cuts a lone giant to the budget', () => {
  const h = [rec('a'.repeat(500)), rec('b'.repeat(300)), rec('c'.repeat(300))];
  assert.deepEqual(boundHistoryBytes(h, 0), h, '0 = no limit');
  assert.deepEqual(boundHistoryBytes(h, 700).map((r) => r.content[0]), ['b', 'c']);
  assert.deepEqual(boundHistoryBytes(h, 2000), h);
  const giant = boundHistoryBytes([rec('x'), rec('é'.repeat(10_000))], 1000);
  assert.equal(giant.length, 1);
  assert.ok(Buffer.byteLength(giant[0]!.content) <= 1000);
  assert.match(giant[0]!.content, /cut/);
  assert.ok(!giant[0]!.content.includes('\uFFFD'), 'no character is split');
  assert.deepEqual(boundHistoryBytes([], 10), []);
});

test('runtime: a 10 MB message is refused before anything is stored; history sent is bounded by bytes', async () => {
  const t = tempDir();
  const prev = setEventSink(() => undefined);
  try {
    const settings = settingsFromEnv({ RUSTY_PINCH_PROVIDER: 'local', RUSTY_PINCH_DATA_DIR: join(t.dir, 'data'), RUSTY_PINCH_WORKSPACE: join(t.dir, 'ws') }, t.dir);
    assert.equal(settings.maxMessageBytes, 32 * 1024);
    assert.equal(settings.historyMaxBytes, 64 * 1024);
    const provider = new Recorder();
    const app = await createApp({ settings, provider });
    try {
      const big = 'x'.repeat(10 * 1024 * 1024);
      const r = await app.runtime.handle({ sessionId: 's', text: big });
      assert.equal(r.status, 'error');
      assert.match(r.error ?? '', /message is too long: 10485760 bytes \(the limit is 32768 bytes/);
      assert.equal(provider.seen.length, 0);
      assert.equal(app.sessions.count('s'), 0, 'nothing stored');
      // Earlier giant messages (stored before the limit existed) are not re-sent whole.
      for (let i = 0; i < 5; i++) await app.sessions.append('s', rec('y'.repeat(200_000)), rec('z'.repeat(100), 'assistant'));
      await app.runtime.handle({ sessionId: 's', text: 'hello' });
      const sent = provider.seen[0]!.messages.slice(1, -1);
      const bytes = sent.reduce((n, m) => n + Buffer.byteLength(m.content), 0);
      assert.ok(sent.length >= 1 && bytes <= 64 * 1024, `${sent.length} messages, ${bytes} bytes`);
      assert.equal(provider.seen[0]!.messages.at(-1)!.content, 'hello');
    } finally {
      await app.close();
    }
  } finally {
    setEventSink(prev);
    t.cleanup();
  }
});

test('channel: an oversized message gets a clear reply and never reaches a turn', async () => {
  const t = tempDir();
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  const sent: string[] = [];
  let deliver!: (m: ChannelMessage) => Promise<void>;
  let ready!: () => void;
  const started = new Promise<void>((r) => (ready = r));
  const adapter: ChannelAdapter = {
    name: 'telegram',
    async run(onMessage, signal) {
      deliver = onMessage;
      ready();
      await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
    },
    async send(_chat, text) {
      sent.push(text);
    },
    isReady: () => true,
  };
  const turns: string[] = [];
  const runner = new ChannelRunner({
    adapter,
    access: new AccessControl({ channel: 'telegram', policy: 'open', allowFrom: [], store: new PairingStore(t.dir) }),
    handle: async (input) => (turns.push(input.text), { status: 'ok', text: 'answer' }),
    maxMessageBytes: 1024,
  });
  const stop = new AbortController();
  const running = runner.run(stop.signal);
  try {
    await started;
    await deliver({ channel: 'telegram', chatId: '1', senderId: '1', text: 'ü'.repeat(600) });
    await deliver({ channel: 'telegram', chatId: '1', senderId: '1', text: 'short' });
    assert.deepEqual(turns, ['short']);
    assert.match(sent[0] ?? '', /too long for me \(1\.2 KB; the limit is 1\.0 KB\)/);
    assert.equal(sent[1], 'answer');
    assert.ok(lines.some((l) => l.includes('"event":"channel_message_too_large"') && l.includes('"bytes":1200')));
  } finally {
    stop.abort();
    await running;
    setEventSink(prev);
    t.cleanup();
  }
});

test('CLI: run --message over the limit exits 2 with one clear error and stores nothing', async () => {
  const t = tempDir();
  try {
    const env = cleanEnv(t.dir, { RUSTY_PINCH_MAX_MESSAGE_BYTES: '1000' });
    const r = await runCli(['run', '--message', 'a'.repeat(1001)], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^Error: message is too long: 1001 bytes \(the limit is 1000 bytes, RUSTY_PINCH_MAX_MESSAGE_BYTES\)$/m);
    assert.ok(!existsSync(join(t.dir, 'data', 'sessions', 'default.jsonl')));
    const ok = await runCli(['run', '--message', 'a'.repeat(1000)], { env });
    assert.equal(ok.code, 0, ok.stderr);
  } finally {
    t.cleanup();
  }
});
