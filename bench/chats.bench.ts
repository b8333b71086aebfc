// 50 chats each send one message at once to `serve` (WhatsApp bridge fake), with an
// OpenAI-compatible provider that takes 200 ms per reply: time until all 50 replies are sent
// (target < 1 s, not 50 × 200 ms). Baseline: the same 50 provider calls made directly, at once.
// Runs with the default RUSTY_PINCH_MAX_CONCURRENT_TURNS and with a higher bound. Needs dist/.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CLI, cleanEnv, tempDir } from '../test/helpers.js';
import { FakeWhatsAppBridge } from '../test/fakes/whatsapp-bridge.js';

const CHATS = 50;
const DELAY_MS = 200;

async function slowProvider() {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'c', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] }));
      }, DELAY_MS),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return { base, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

async function baseline(base: string): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CHATS }, () => fetch(`${base}/chat/completions`, { method: 'POST', body: '{}' }).then((r) => r.arrayBuffer())));
  return performance.now() - t0;
}

async function serveRun(base: string, concurrency: string | undefined): Promise<number> {
  const t = tempDir('rp-bench-chats-');
  const wa = await FakeWhatsAppBridge.start({ dialect: 'baileys' });
  const env = cleanEnv(t.dir, {
    RUSTY_PINCH_PROVIDER: 'openai',
    RUSTY_PINCH_OPENAI_API_BASE: base,
    RUSTY_PINCH_API_KEY: 'sk-bench-key-000000',
    RUSTY_PINCH_CHANNELS_WHATSAPP_ENABLED: 'true',
    RUSTY_PINCH_CHANNELS_WHATSAPP_BRIDGE_URL: wa.url,
    RUSTY_PINCH_CHANNELS_WHATSAPP_DM_POLICY: 'open',
    RUSTY_PINCH_SESSION_FSYNC: 'false',
    RUSTY_PINCH_MAX_CONCURRENT_TURNS: concurrency,
  });
  const child = spawn(process.execPath, [CLI, 'serve'], { env, stdio: ['ignore', 'ignore', 'ignore'] });
  try {
    await wa.waitForClient(15_000);
    await new Promise((r) => setTimeout(r, 300)); // let the process settle (lazy loads)
    // Warm-up turn (first provider call pays for connection setup and lazy imports).
    wa.inbound({ from: '1000@s.whatsapp.net', text: 'warm up', id: 'warm' });
    await wa.waitFor(() => wa.outbound.length === 1, 15_000, 'warm-up reply');
    const t0 = performance.now();
    for (let i = 0; i < CHATS; i++) wa.inbound({ from: `${2000 + i}@s.whatsapp.net`, text: `hello ${i}`, id: `m${i}` });
    await wa.waitFor(() => wa.outbound.length === CHATS + 1, 30_000, 'all replies');
    return performance.now() - t0;
  } finally {
    const done = new Promise((r) => child.on('close', r));
    child.kill('SIGTERM');
    await done;
    await wa.close();
    t.cleanup();
  }
}

const provider = await slowProvider();
try {
  const floor = await baseline(provider.base);
  console.log(`baseline: ${CHATS} direct provider calls at once: ${floor.toFixed(0)} ms (serial would be ${CHATS * DELAY_MS} ms)`);
  for (const c of [undefined, '64']) {
    const ms = await serveRun(provider.base, c);
    const label = c ? `RUSTY_PINCH_MAX_CONCURRENT_TURNS=${c}` : 'default RUSTY_PINCH_MAX_CONCURRENT_TURNS (32)';
    console.log(`serve, ${label}: all ${CHATS} replies after ${ms.toFixed(0)} ms = ${(ms / floor).toFixed(1)}x baseline, ${((CHATS * DELAY_MS) / ms).toFixed(1)}x faster than serial; [goal < 1000 ms]: ${ms < 1000 ? 'PASS' : 'MISS'}`);
  }
} finally {
  await provider.close();
}
