// Channel benchmark (issue 3): 50 Telegram chats each send one message at once, with a provider
// that takes 200 ms per reply, through the real adapter, runner and Runtime against the fake Bot
// API. Reported against a baseline measured here: one chat, one message.
import { createApp } from '../src/app/index.js';
import { hostChannel } from '../src/app/channel-host.js';
import { TelegramAdapter } from '../src/channels/index.js';
import { settingsFromEnv } from '../src/config/index.js';
import { setEventSink } from '../src/observe/index.js';
import type { Provider, ProviderRequest, ProviderResult } from '../src/providers/types.js';
import { startFakeTelegram } from '../test/fakes/telegram-api.js';
import { cleanEnv, tempDir } from '../test/helpers.js';

class SlowProvider implements Provider {
  readonly name = 'bench';
  readonly model = 'slow-200ms';
  readonly nativeTools = false;
  async complete(_req: ProviderRequest): Promise<ProviderResult> {
    await new Promise((r) => setTimeout(r, 200));
    return { content: 'done', attempts: 1, latencyMs: 200, tokensUsed: 0 };
  }
}

async function round(chats: number, maxConcurrent: number): Promise<number> {
  const fake = await startFakeTelegram();
  const { dir, cleanup } = tempDir();
  const env = cleanEnv(dir, { RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED: 'true', RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN: fake.token, RUSTY_PINCH_CHANNELS_TELEGRAM_API_ROOT: fake.url, RUSTY_PINCH_CHANNELS_TELEGRAM_DM_POLICY: 'open', RUSTY_PINCH_CHANNELS_TELEGRAM_POLL_TIMEOUT_SECS: '5', RUSTY_PINCH_SESSION_FSYNC: 'false', RUSTY_PINCH_MAX_CONCURRENT_TURNS: String(maxConcurrent) });
  const settings = settingsFromEnv(env, dir);
  const app = await createApp({ settings, provider: new SlowProvider() });
  const adapter = new TelegramAdapter(settings.channels.telegram, { dataDir: settings.dataDir });
  const hosted = hostChannel(app, adapter);
  const stop = new AbortController();
  const done = hosted.runner.run(stop.signal);
  await fake.waitFor(() => adapter.isReady(), 5000, 'ready');
  const t0 = performance.now();
  for (let i = 0; i < chats; i++) fake.message({ chatId: 1000 + i, text: `hello ${i}` });
  await fake.waitFor(() => fake.sent.length >= chats, 60_000, 'all replies');
  const elapsed = performance.now() - t0;
  stop.abort();
  await done;
  hosted.dispose();
  await app.close();
  await fake.close();
  cleanup();
  return elapsed;
}

async function main(): Promise<void> {
  const prev = setEventSink(() => undefined);
  try {
    const base = await round(1, 32);
    console.log(`baseline: 1 chat, 1 message, 200 ms provider: ${base.toFixed(0)} ms`);
    for (const conc of [8, 32, 64]) {
      const t = await round(50, conc);
      // The goal is the default's; another bound has a floor of its own: ceil(50 / bound) waves of
      // 200 ms (8 turns at once cannot answer 50 chats in under 1.4 s), reported against it.
      const floor = Math.ceil(50 / conc) * 200;
      const verdict = conc === 32 ? `[goal < 1000 ms]: ${t < 1000 ? 'PASS' : 'MISS'}` : `(reported; floor ${floor} ms, ${(t / floor).toFixed(2)}x of it)`;
      console.log(`50 chats at once, RUSTY_PINCH_MAX_CONCURRENT_TURNS=${conc}${conc === 32 ? ' (default)' : ''}: ${t.toFixed(0)} ms = ${(t / base).toFixed(2)}x baseline (sequential would be ~50x); ${verdict}`);
    }
  } finally {
    setEventSink(prev);
  }
}

await main();
