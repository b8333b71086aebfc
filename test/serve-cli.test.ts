// `serve` spawned as a user would, with Telegram and WhatsApp enabled against loopback fakes:
// /healthz, /readyz (503 until channels are up, then 200), /metrics after turns, SIGTERM during
// a slow turn (the reply is still sent, exit 0), a message a CLI process left in the outbox
// (sent by serve), no channels, and garbage settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cleanEnv, events, freePort, runCli, startCli, tempDir } from './helpers.js';
import { startFakeTelegram, type FakeTelegram } from './fakes/telegram-api.js';
import { FakeWhatsAppBridge } from './fakes/whatsapp-bridge.js';

/** A minimal OpenAI-compatible server: answers `model: <text>`, after `delayMs` when the text says slow. */
async function slowProvider(delayMs: number): Promise<{ base: string; server: Server; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const msgs = (JSON.parse(body) as { messages: Array<{ role: string; content: string }> }).messages;
      const text = [...msgs].reverse().find((m) => m.role === 'user')?.content ?? '';
      seen.push(text);
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'c', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: `model: ${text}` }, finish_reason: 'stop' }] }));
      }, /slow/.test(text) ? delayMs : 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return { base: `http://127.0.0.1:${port}/v1`, server, seen, close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))) };
}



async function get(url: string): Promise<{ status: number; body: string; type: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') ?? '' };
}

async function until<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function serveEnv(dir: string, tg: FakeTelegram, wa: FakeWhatsAppBridge, opsPort: number, extra: Record<string, string> = {}) {
  return cleanEnv(dir, {
    RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED: 'true',
    RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN: tg.token,
    RUSTY_PINCH_CHANNELS_TELEGRAM_API_ROOT: tg.url,
    RUSTY_PINCH_CHANNELS_TELEGRAM_POLL_TIMEOUT_SECS: '1',
    RUSTY_PINCH_CHANNELS_TELEGRAM_POLL_INTERVAL_MS: '0',
    RUSTY_PINCH_CHANNELS_TELEGRAM_DM_POLICY: 'open',
    RUSTY_PINCH_CHANNELS_WHATSAPP_ENABLED: 'true',
    RUSTY_PINCH_CHANNELS_WHATSAPP_BRIDGE_URL: wa.url,
    RUSTY_PINCH_CHANNELS_WHATSAPP_ALLOW_FROM: '+4915550001',
    RUSTY_PINCH_CHANNELS_WHATSAPP_RECONNECT_MS: '100',
    RUSTY_PINCH_SESSION_FSYNC: 'false',
    RUSTY_PINCH_OPS_ADDR: `127.0.0.1:${opsPort}`,
    ...extra,
  });
}

test('serve: both channels against the fakes; readyz 503 then 200; metrics after turns; SIGTERM mid-turn still replies, exit 0', async () => {
  const t = tempDir('rp-serve-');
  const tg = await startFakeTelegram();
  const provider = await slowProvider(1500);
  // The bridge is down at start, so /readyz must first say 503 naming WhatsApp.
  const probe = await FakeWhatsAppBridge.start({ dialect: 'baileys' });
  const waPort = probe.port;
  await probe.kill();
  const wa = probe;
  const ops = await freePort();
  const env = serveEnv(t.dir, tg, wa, ops, { RUSTY_PINCH_PROVIDER: 'openai', RUSTY_PINCH_OPENAI_API_BASE: provider.base, RUSTY_PINCH_API_KEY: 'sk-test-key-for-fake', RUSTY_PINCH_PULSE_NOTIFY: 'telegram:777' });
  const serve = startCli(['serve'], env);
  const base = `http://127.0.0.1:${ops}`;
  try {
    const health = await until(async () => ((await get(`${base}/healthz`)).status === 200 ? true : undefined), '/healthz');
    assert.equal(health, true);
    const notReady = await until(async () => {
      const r = await get(`${base}/readyz`);
      return r.status === 503 ? r : undefined;
    }, '/readyz 503');
    const body = JSON.parse(notReady.body) as { status: string; not_ready: string[] };
    assert.equal(body.status, 'not_ready');
    assert.ok(body.not_ready.includes('channel:whatsapp'), notReady.body);

    await wa.restart();
    assert.equal(wa.port, waPort);
    const ready = await until(async () => {
      const r = await get(`${base}/readyz`);
      return r.status === 200 ? r : undefined;
    }, '/readyz 200');
    assert.match(ready.body, /"status":"ready"/);

    // A turn on each channel.
    tg.message({ chatId: 501, fromId: 501, text: 'hello telegram' });
    wa.inbound({ from: '99999@lid', pn: '4915550001@s.whatsapp.net', text: 'hello whatsapp', id: 'W1' });
    await tg.waitFor(() => tg.sent.some((m) => m.chat_id === '501'), 10_000, 'telegram reply');
    await wa.waitFor(() => wa.outbound.length === 1, 10_000, 'whatsapp reply');
    assert.deepEqual(wa.outbound[0], { type: 'send', to: '99999@lid', text: 'model: hello whatsapp' });
    assert.match(tg.sent.find((m) => m.chat_id === '501')!.text, /model: hello telegram/);

    const metrics = await get(`${base}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.type, /text\/plain/);
    assert.match(metrics.body, /rusty_pinch_turns_total\{path="provider",status="ok"\} 2/);
    assert.match(metrics.body, /rusty_pinch_provider_latency_seconds_count\{status="ok"\} 2/);
    assert.match(metrics.body, /rusty_pinch_channel_messages_total\{channel="whatsapp",direction="in"\} 1/);
    assert.match(metrics.body, /rusty_pinch_channel_messages_total\{channel="telegram",direction="out"\} 1/);
    assert.match(metrics.body, /rusty_pinch_channel_reconnects_total\{channel="whatsapp"\} \d/);
    assert.match(metrics.body, /rusty_pinch_queue_depth\{queue="runtime_turns"\} 0/);
    assert.match(metrics.body, /rusty_pinch_channel_ready\{channel="telegram"\} 1/);
    assert.equal((await get(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/healthz`, { method: 'POST' })).status, 405);

    // One road out: a CLI process parks a risky action; its approval request goes into the
    // durable outbox, and serve's drainer sends it to the notify target.
    const ooda = await runCli(['pulse', 'ooda', '--action', 'deploy production'], { env });
    assert.equal(ooda.code, 0, ooda.stderr);
    const token = (JSON.parse(ooda.stdout) as { approval_token: string }).approval_token;
    await tg.waitFor(() => tg.sent.some((m) => m.chat_id === '777'), 10_000, 'approval request from the outbox');
    assert.match(tg.sent.find((m) => m.chat_id === '777')!.text, new RegExp(`pulse approve --token ${token}`));

    // SIGTERM while a slow WhatsApp turn runs: the reply still goes out, then exit 0.
    wa.inbound({ from: '99999@lid', pn: '4915550001@s.whatsapp.net', text: 'slow one', id: 'W2' });
    await until(async () => (provider.seen.includes('slow one') ? true : undefined), 'slow turn at the provider');
    serve.child.kill('SIGTERM');
    const res = await serve.result;
    assert.equal(res.code, 0, res.stderr.slice(-2000));
    assert.deepEqual(wa.outbound[1], { type: 'send', to: '99999@lid', text: 'model: slow one' });
    const names = events(res.stderr).map((e) => e.event);
    for (const n of ['ops_listening', 'serve_start', 'channel_signal', 'serve_stopping', 'serve_stop']) assert.ok(names.includes(n), n);
    assert.ok(!res.stderr.includes('sk-test-key-for-fake'));
    assert.equal(res.stdout, '');
  } finally {
    serve.child.kill('SIGKILL');
    await Promise.all([tg.close(), wa.close(), provider.close()]);
    t.cleanup();
  }
});

test('serve with no channel enabled still runs the ops endpoint and says so; a non-loopback address is refused with a warning; SIGINT exits 0', async () => {
  const t = tempDir('rp-serve-none-');
  const ops = await freePort();
  const serve = startCli(['serve'], cleanEnv(t.dir, { RUSTY_PINCH_OPS_ADDR: `0.0.0.0:${ops}` }));
  try {
    const r = await until(async () => {
      const x = await get(`http://127.0.0.1:${ops}/readyz`);
      return x.status === 200 ? x : undefined;
    }, 'ready without channels');
    assert.match(r.body, /"status":"ready"/);
    assert.ok(events(serve.stderr()).some((e) => e.event === 'serve_no_channels'));
    const warn = events(serve.stderr()).find((e) => e.event === 'warning' && e.component === 'ops');
    assert.match(String(warn?.message), /not loopback; listening on 127\.0\.0\.1/);
    assert.ok(events(serve.stderr()).some((e) => e.event === 'ops_listening' && e.addr === `127.0.0.1:${ops}`));
    serve.child.kill('SIGINT');
    const res = await serve.result;
    assert.equal(res.code, 0, res.stderr.slice(-1500));
  } finally {
    serve.child.kill('SIGKILL');
    t.cleanup();
  }
});

test('serve refuses bad settings: garbage bridge URL, telegram without token, ops port in use', async () => {
  const t = tempDir('rp-serve-bad-');
  try {
    for (const url of ['http://127.0.0.1:3001', 'not a url', 'ws://']) {
      const r = await runCli(['serve'], { env: cleanEnv(t.dir, { RUSTY_PINCH_CHANNELS_WHATSAPP_ENABLED: 'true', RUSTY_PINCH_CHANNELS_WHATSAPP_BRIDGE_URL: url }) });
      assert.equal(r.code, 1, `${url}: ${r.stderr}`);
      assert.match(r.stderr, /Error: .*BRIDGE_URL/);
    }
    const noTok = await runCli(['serve'], { env: cleanEnv(t.dir, { RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED: 'true' }) });
    assert.equal(noTok.code, 1);
    assert.match(noTok.stderr, /RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN is required/);
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as AddressInfo).port;
    try {
      const r = await runCli(['serve'], { env: cleanEnv(t.dir, { RUSTY_PINCH_OPS_ADDR: `127.0.0.1:${port}` }) });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /ops endpoint cannot listen on 127\.0\.0\.1:\d+/);
      assert.match(r.stderr, /hint: .*RUSTY_PINCH_OPS_ADDR/);
    } finally {
      busy.close();
    }
  } finally {
    t.cleanup();
  }
});
