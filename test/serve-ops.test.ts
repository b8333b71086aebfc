// The ops endpoint pieces in process: RUSTY_PINCH_OPS_ADDR parsing (garbage, loopback rule),
// the HTTP server's routes, and the Prometheus metrics text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settingsFromEnv } from '../src/config/index.js';
import { isLoopbackHost, parseOpsAddr } from '../src/config/ops-settings.js';
import { createMetrics, startOpsServer, type Readiness } from '../src/observe/index.js';

const ops = (env: Record<string, string>) => {
  const s = settingsFromEnv(env, '/tmp');
  return { ops: s.ops, issues: s.issues.filter((i) => i.variable.startsWith('RUSTY_PINCH_OPS')) };
};

test('RUSTY_PINCH_OPS_ADDR: default, off, host:port, [v6]:port, bare port', () => {
  assert.deepEqual(ops({}).ops, { addr: { host: '127.0.0.1', port: 9464 } });
  assert.deepEqual(ops({ RUSTY_PINCH_OPS_ADDR: 'off' }).ops, { addr: undefined });
  assert.deepEqual(ops({ RUSTY_PINCH_OPS_ADDR: ' OFF ' }).ops, { addr: undefined });
  assert.deepEqual(ops({ RUSTY_PINCH_OPS_ADDR: 'localhost:9000' }).ops, { addr: { host: 'localhost', port: 9000 } });
  assert.deepEqual(ops({ RUSTY_PINCH_OPS_ADDR: '[::1]:9000' }).ops, { addr: { host: '::1', port: 9000 } });
  assert.deepEqual(ops({ RUSTY_PINCH_OPS_ADDR: '9100' }).ops, { addr: { host: '127.0.0.1', port: 9100 } });
  assert.equal(ops({ RUSTY_PINCH_OPS_ADDR: '127.0.0.2:9000' }).issues.length, 0);
});

test('RUSTY_PINCH_OPS_ADDR garbage → an error (serve refuses, doctor reports), never a silent default', () => {
  for (const bad of ['abc', ':9464', '127.0.0.1:', '127.0.0.1:99999', '127.0.0.1:-1', 'a:b:c', '::1:9464', 'http://127.0.0.1:9464', '127.0.0.1:94x4', '[zz]:80', '-x:80', '127.0.0.1 9464', '999999']) {
    const r = ops({ RUSTY_PINCH_OPS_ADDR: bad });
    assert.equal(r.ops.addr, undefined, bad);
    assert.match(r.ops.error ?? '', /RUSTY_PINCH_OPS_ADDR=.* is not an address: expected host:port/, bad);
  }
  assert.equal(parseOpsAddr(''), undefined);
});

test('non-loopback hosts are refused (bound to 127.0.0.1) unless explicitly allowed', () => {
  const refused = ops({ RUSTY_PINCH_OPS_ADDR: '0.0.0.0:9500' });
  assert.deepEqual(refused.ops, { addr: { host: '127.0.0.1', port: 9500 }, nonLoopback: { host: '0.0.0.0', action: 'refused' } });
  assert.match(refused.issues[0]!.message, /RUSTY_PINCH_OPS_ALLOW_NON_LOOPBACK/);
  const allowed = ops({ RUSTY_PINCH_OPS_ADDR: '0.0.0.0:9500', RUSTY_PINCH_OPS_ALLOW_NON_LOOPBACK: 'true' });
  assert.deepEqual(allowed.ops, { addr: { host: '0.0.0.0', port: 9500 }, nonLoopback: { host: '0.0.0.0', action: 'allowed' } });
  assert.equal(allowed.issues.length, 0);
  assert.equal(ops({ RUSTY_PINCH_OPS_ADDR: '0.0.0.0:9500', RUSTY_PINCH_OPS_ALLOW_NON_LOOPBACK: 'maybe' }).ops.nonLoopback?.action, 'refused');
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.com', '128.0.0.1', '127.0.0.256', 'localhost.evil.com']) assert.ok(!isLoopbackHost(h), h);
});

test('ops server routes: healthz, readyz 503/200 with the names, metrics, 404, 405, HEAD', async () => {
  let readiness: Readiness = { ready: false, checks: { 'channel:telegram': true, 'channel:whatsapp': false } };
  const srv = await startOpsServer({ host: '127.0.0.1', port: 0, readiness: () => readiness, metrics: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'x_total 1\n' }) });
  const base = `http://127.0.0.1:${srv.port}`;
  try {
    const h = await fetch(`${base}/healthz`);
    assert.equal(h.status, 200);
    const r1 = await fetch(`${base}/readyz`);
    assert.equal(r1.status, 503);
    assert.deepEqual(await r1.json(), { status: 'not_ready', checks: readiness.checks, not_ready: ['channel:whatsapp'] });
    readiness = { ready: true, checks: { 'channel:telegram': true, 'channel:whatsapp': true } };
    const r2 = await fetch(`${base}/readyz?verbose=1`);
    assert.equal(r2.status, 200);
    assert.equal(((await r2.json()) as { status: string }).status, 'ready');
    assert.equal(await (await fetch(`${base}/metrics`)).text(), 'x_total 1\n');
    assert.equal((await fetch(`${base}/`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'DELETE' })).status, 405);
    const head = await fetch(`${base}/healthz`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  } finally {
    await srv.close();
  }
  const noMetrics = await startOpsServer({ host: '127.0.0.1', port: 0, readiness: () => readiness });
  try {
    assert.equal((await fetch(`http://127.0.0.1:${noMetrics.port}/metrics`)).status, 404);
  } finally {
    await noMetrics.close();
  }
});

test('ops server: a port in use is an error, not a crash', async () => {
  const a = await startOpsServer({ host: '127.0.0.1', port: 0, readiness: () => ({ ready: true, checks: {} }) });
  try {
    await assert.rejects(startOpsServer({ host: '127.0.0.1', port: a.port, readiness: () => ({ ready: true, checks: {} }) }), /EADDRINUSE/);
  } finally {
    await a.close();
  }
});

test('metrics: turns by path/status, provider latency, channel figures, queue depths; bad sources do not break a scrape', async () => {
  let depth = 3;
  const m = await createMetrics({
    channels: () => [{ channel: 'whatsapp', messagesIn: 5, messagesOut: 4, reconnects: 2, ready: true }],
    queues: () => ({ runtime_turns: depth, codex: Number.NaN }),
  });
  m.recordTurn({ path: 'provider', status: 'ok', latency_ms: 200 });
  m.recordTurn({ path: 'provider', status: 'error', latency_ms: null });
  m.recordTurn({ path: 'tool', status: 'ok', latency_ms: null });
  const { body, contentType } = await m.render();
  assert.match(contentType, /text\/plain/);
  assert.match(body, /rusty_pinch_turns_total\{path="provider",status="ok"\} 1/);
  assert.match(body, /rusty_pinch_turns_total\{path="provider",status="error"\} 1/);
  assert.match(body, /rusty_pinch_turns_total\{path="tool",status="ok"\} 1/);
  assert.match(body, /rusty_pinch_provider_latency_seconds_bucket\{le="0.25",status="ok"\} 1/);
  assert.match(body, /rusty_pinch_provider_latency_seconds_count\{status="ok"\} 1/);
  assert.match(body, /rusty_pinch_channel_messages_total\{channel="whatsapp",direction="in"\} 5/);
  assert.match(body, /rusty_pinch_channel_messages_total\{channel="whatsapp",direction="out"\} 4/);
  assert.match(body, /rusty_pinch_channel_reconnects_total\{channel="whatsapp"\} 2/);
  assert.match(body, /rusty_pinch_channel_ready\{channel="whatsapp"\} 1/);
  assert.match(body, /rusty_pinch_queue_depth\{queue="runtime_turns"\} 3/);
  assert.doesNotMatch(body, /queue="codex"/);
  assert.match(body, /rusty_pinch_process_resident_memory_bytes/);
  depth = 0;
  assert.match((await m.render()).body, /rusty_pinch_queue_depth\{queue="runtime_turns"\} 0/, 'read fresh on every scrape');

  const broken = await createMetrics({
    channels: () => {
      throw new Error('boom');
    },
    queues: () => {
      throw new Error('boom');
    },
  });
  assert.match((await broken.render()).body, /rusty_pinch_turns_total/);
});

// Issue 13 item 6: idle connections, a connection flood, DNS rebinding.
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { hostAllowed } from '../src/observe/ops-server.js';

function openIdle(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.resume(); // read what the server sends (e.g. a 408), so its close is seen
    s.on('error', () => undefined);
    s.once('error', reject);
  });
}

function getWithHost(port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = host === undefined ? {} : { host };
    const req = request({ host: '127.0.0.1', port, path: '/metrics', headers, setHost: host !== undefined, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

// Fails by its own timeout if the server never closes the idle sockets.
test('ops server: an idle socket is closed by its deadline', { timeout: 30_000 }, async () => {
  const srv = await startOpsServer({ host: '127.0.0.1', port: 0, readiness: () => ({ ready: true, checks: {} }), timeouts: { headersMs: 300, idleMs: 300 } });
  try {
    const s = await openIdle(srv.port);
    await new Promise<void>((resolve) => s.once('close', () => resolve()));
    assert.ok(s.destroyed, 'an idle socket is closed by the server');
    const half = await openIdle(srv.port);
    half.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // headers never finished
    await new Promise<void>((resolve) => half.once('close', () => resolve()));
    assert.ok(half.destroyed, 'a socket that never finishes its headers is closed too');
  } finally {
    await srv.close();
  }
});

test('ops server: a flood of idle sockets cannot starve /healthz; open connections stay capped', async () => {
  const srv = await startOpsServer({ host: '127.0.0.1', port: 0, readiness: () => ({ ready: true, checks: {} }), maxConnections: 16 });
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < 300; i++) sockets.push(await openIdle(srv.port));
    const h = await fetch(`http://127.0.0.1:${srv.port}/healthz`);
    assert.equal(h.status, 200);
    // Wait until the evicted sockets have seen their close.
    const alive = (): number => sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
    await Promise.all(sockets.slice(0, 280).map((s) => (s.destroyed ? undefined : new Promise<void>((r) => s.once('close', () => r())))));
    assert.ok(alive() <= 16, `${alive()} idle sockets still open`);
  } finally {
    for (const s of sockets) s.destroy();
    await srv.close();
  }
});

test('ops server: only loopback names or the bind address as Host (DNS rebinding)', async () => {
  const srv = await startOpsServer({ host: '127.0.0.1', port: 0, readiness: () => ({ ready: true, checks: {} }), metrics: async () => ({ contentType: 'text/plain', body: 'x 1\n' }) });
  try {
    const p = srv.port;
    for (const ok of [`127.0.0.1:${p}`, `localhost:${p}`, 'localhost', `[::1]:${p}`, `LOCALHOST:${p}`, undefined]) assert.equal(await getWithHost(p, ok), 200, String(ok));
    for (const bad of [`evil.example:${p}`, 'evil.example', `localhost.evil.example:${p}`, `10.0.0.5:${p}`, 'a_b', `127.0.0.1:${p}:1`]) assert.equal(await getWithHost(p, bad), 421, bad);
  } finally {
    await srv.close();
  }
  assert.ok(hostAllowed('192.168.1.5:9464', '0.0.0.0'), 'wildcard bind: IP literals');
  assert.ok(!hostAllowed('pi.evil:9464', '0.0.0.0'));
  assert.ok(hostAllowed('pi.local:9464', 'pi.local'), 'the configured bind host');
});
