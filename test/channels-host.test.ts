// The composition in app/channel-host.ts, in-process: the runtime's turns get session ids
// `telegram:<chat id>`, and late (deferred) answers reach the chat they belong to through the outbox.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../src/app/index.js';
import { runChannelForeground } from '../src/app/channel-host.js';
import { settingsFromEnv } from '../src/config/index.js';
import { setEventSink } from '../src/observe/index.js';
import { startFakeTelegram } from './fakes/telegram-api.js';
import { cleanEnv, tempDir } from './helpers.js';

test('foreground host: turns use telegram:<chat> sessions, deferred replies reach their chat', async () => {
  const fake = await startFakeTelegram();
  const { dir, cleanup } = tempDir();
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  try {
    const env = cleanEnv(dir, {
      RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED: 'true',
      RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN: fake.token,
      RUSTY_PINCH_CHANNELS_TELEGRAM_API_ROOT: fake.url,
      RUSTY_PINCH_CHANNELS_TELEGRAM_DM_POLICY: 'open',
      RUSTY_PINCH_CHANNELS_TELEGRAM_POLL_TIMEOUT_SECS: '1',
      RUSTY_PINCH_SESSION_FSYNC: 'false',
    });
    const app = await createApp({ settings: settingsFromEnv(env, dir) });
    const stop = new AbortController();
    const run = runChannelForeground('telegram', { app, signal: stop.signal });
    fake.message({ chatId: -1001234, fromId: 7, text: 'group hello' });
    await fake.waitFor(() => fake.sent.length === 1, 10_000, 'turn reply');
    assert.equal(fake.sent[0]!.chat_id, '-1001234');
    assert.ok(app.sessions.tail('telegram:-1001234', 10).some((r) => r.role === 'user' && r.content === 'group hello'));

    app.runtime.completeDeferred({ sessionId: 'whatsapp:9@s.whatsapp.net', channel: 'whatsapp', chatId: '9@s.whatsapp.net', text: 'not for telegram', requestId: 'rp-a' });
    app.runtime.completeDeferred({ sessionId: 'telegram:31', channel: 'telegram', chatId: '31', text: 'your **codex** task finished', requestId: 'rp-b' });
    await fake.waitFor(() => fake.sent.length === 2, 10_000, 'deferred reply');
    assert.deepEqual({ chat: fake.sent[1]!.chat_id, text: fake.sent[1]!.text }, { chat: '31', text: 'your <b>codex</b> task finished' });
    stop.abort();
    assert.deepEqual(await run, { reason: 'signal', turns: 1 });
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(fake.sent.map((s) => s.chat_id), ['-1001234', '31'], JSON.stringify(fake.sent) + lines.join(''));
    // The other channel's answer stays in the outbox for the process that has that channel.
    assert.deepEqual((await app.outbox.list()).map((o) => o.channel), ['whatsapp']);
    await app.close();
  } finally {
    setEventSink(prev);
    await fake.close();
    cleanup();
  }
});
