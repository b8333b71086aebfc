// Optional OTLP export: off by default (nothing loaded), real SDK against a loopback collector
// (spans carry the turn, metrics arrive), through the CLI, against a dead collector, bounded
// queue semantics, and bad settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedQueue, startOtlpExport } from '../src/observe/otlp.js';
import { otlpPackagesMissing, settingsFromEnv } from '../src/config/index.js';
import type { TurnRecord } from '../src/kernel/index.js';
import { cleanEnv, events, freePort, runCli, startCli, tempDir } from './helpers.js';
import { startFakeTelegram } from './fakes/telegram-api.js';
import { startFakeCollector } from './fakes/otlp-collector.js';

function turn(i: number, over: Partial<TurnRecord> = {}): TurnRecord {
  return { timestamp: new Date().toISOString(), request_id: `rp-test-${i}`, session_id: 's', path: 'provider', status: 'ok', provider: 'local', model: 'local', tool_name: null, attempts: 0, latency_ms: 12, user_chars: 5, response_chars: 9, error: null, ...over };
}

test('BoundedQueue keeps the newest `capacity` items and counts the dropped', () => {
  const q = new BoundedQueue<number>(3);
  for (let i = 1; i <= 5; i++) q.push(i);
  assert.equal(q.length, 3);
  assert.equal(q.dropped, 2);
  assert.deepEqual([q.shift(), q.shift(), q.shift(), q.shift()], [3, 4, 5, undefined]);
  q.push(6);
  assert.equal(q.shift(), 6);
});

test('the SDK exports turn spans and metrics to an OTLP/HTTP collector', async () => {
  const c = await startFakeCollector();
  try {
    const exp = await startOtlpExport({ endpoint: c.url, serviceName: 'rp-test', serviceVersion: '9.9.9', metricIntervalMs: 60_000 });
    exp.record(turn(1));
    exp.record(turn(2, { path: 'tool', tool_name: 'time_now', latency_ms: null, attempts: null }));
    exp.record(turn(3, { status: 'error', error: 'provider said no' }));
    await exp.shutdown(10_000);
    await c.waitFor(() => c.spans().length === 3 && c.metricNames().length > 0);
    const spans = c.spans();
    assert.deepEqual(spans.map((s) => s.request_id).sort(), ['rp-test-1', 'rp-test-2', 'rp-test-3']);
    const failed = spans.find((s) => s.request_id === 'rp-test-3')!;
    assert.equal(failed.status_code, 2); // STATUS_CODE_ERROR
    assert.equal(failed.status, 'error');
    assert.equal(spans.find((s) => s.request_id === 'rp-test-2')!.tool_name, 'time_now');
    assert.deepEqual(c.metricNames(), ['provider_latency_seconds', 'tool_executions_total', 'turn_latency_seconds', 'turns_total']);
    assert.equal(exp.stats.recorded, 3);
    // After shutdown, records are ignored (no late timers keep the process alive).
    exp.record(turn(4));
  } finally {
    await c.close();
  }
});

test('a dead collector costs dropped telemetry, never a failure, and shutdown is bounded', async () => {
  const port = await freePort();
  const exp = await startOtlpExport({ endpoint: `http://127.0.0.1:${port}`, serviceName: 'x', serviceVersion: '1', metricIntervalMs: 60_000, exportTimeoutMs: 500, queueCapacity: 4 });
  for (let i = 0; i < 10; i++) exp.record(turn(i));
  assert.equal(exp.stats.dropped, 6);
  const t0 = Date.now();
  await exp.shutdown(1500);
  assert.ok(Date.now() - t0 < 10_000);
});

test('through the CLI: off by default, on with an endpoint, degraded but working with a dead one', async () => {
  const t = tempDir();
  const c = await startFakeCollector();
  try {
    const off = await runCli(['run', '--session', 'o', '--message', 'hi'], { env: cleanEnv(t.dir) });
    assert.equal(off.code, 0);
    assert.ok(!events(off.stderr).some((e) => e.event === 'observability_init'));

    const on = await runCli(['run', '--session', 'o', '--message', 'traced'], { env: cleanEnv(t.dir, { RUSTY_PINCH_OTEL_EXPORTER_OTLP_ENDPOINT: c.url, OTEL_SERVICE_NAME: 'rp-cli-test' }) });
    assert.equal(on.code, 0, on.stderr);
    assert.match(on.stdout, /Received 'traced'/);
    assert.deepEqual(events(on.stderr).find((e) => e.event === 'observability_init'), { event: 'observability_init', status: 'ok', otlp_endpoint: c.url });
    const requestId = events(on.stderr).find((e) => e.event === 'turn')!.request_id;
    await c.waitFor(() => c.spans().some((s) => s.request_id === requestId));

    // The standard variable works too; a dead collector does not fail the turn.
    const port = await freePort();
    const dead = await runCli(['run', '--session', 'o', '--message', 'x'], { env: cleanEnv(t.dir, { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` }) });
    assert.equal(dead.code, 0, dead.stderr);

    const doctor = await runCli(['doctor', '--json'], { env: cleanEnv(t.dir, { RUSTY_PINCH_OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317' }) });
    const report = JSON.parse(doctor.stdout) as { otlp_endpoint: string; checks: Array<{ message: string }> };
    assert.equal(report.otlp_endpoint, 'http://127.0.0.1:4317');
    assert.ok(report.checks.some((ch) => /port 4317 \(OTLP\/gRPC\)/.test(ch.message)));
  } finally {
    await c.close();
    t.cleanup();
  }
});

test('settings: garbage endpoints are reported and turn export off; doctor names missing packages', () => {
  for (const bad of ['not a url', 'ftp://x:21', 'http//nope']) {
    const s = settingsFromEnv({ RUSTY_PINCH_OTEL_EXPORTER_OTLP_ENDPOINT: bad }, '/tmp');
    assert.equal(s.otlp.endpoint, undefined);
    assert.equal(s.issues[0]?.variable, 'RUSTY_PINCH_OTEL_EXPORTER_OTLP_ENDPOINT');
  }
  const s = settingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_METRIC_EXPORT_INTERVAL_SECS: '0' }, '/tmp');
  assert.equal(s.otlp.endpoint, 'http://collector:4318');
  assert.equal(s.otlp.metricIntervalSecs, 15);
  assert.equal(s.issues[0]?.variable, 'OTEL_METRIC_EXPORT_INTERVAL_SECS');
  assert.equal(settingsFromEnv({}, '/tmp').otlp.endpoint, undefined);
  assert.deepEqual(otlpPackagesMissing(), []);
  assert.equal(otlpPackagesMissing(() => {
    throw new Error('not found');
  }).length, 5);
});

test('serve exports the turns of a Telegram chat, and stops cleanly with export on', async () => {
  const t = tempDir();
  const c = await startFakeCollector();
  const tg = await startFakeTelegram();
  try {
    const env = cleanEnv(t.dir, {
      RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED: 'true',
      RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN: tg.token,
      RUSTY_PINCH_CHANNELS_TELEGRAM_API_ROOT: tg.url,
      RUSTY_PINCH_CHANNELS_TELEGRAM_ALLOW_FROM: '7',
      RUSTY_PINCH_CHANNELS_TELEGRAM_POLL_TIMEOUT_SECS: '1',
      RUSTY_PINCH_SESSION_FSYNC: 'false',
      RUSTY_PINCH_OTEL_EXPORTER_OTLP_ENDPOINT: c.url,
    });
    const run = startCli(['serve'], env);
    tg.message({ chatId: 7, text: 'over telegram' });
    await tg.waitFor(() => tg.sent.some((m) => /Received 'over telegram'/.test(m.text)), 15_000, 'the answer');
    run.child.kill('SIGTERM');
    const r = await run.result;
    assert.equal(r.code, 0, r.stderr);
    // The flush at stop delivers the span (or the 2 s batch already did).
    await c.waitFor(() => c.spans().some((s) => s.path === 'provider' && String(s.session_id).startsWith('telegram')));
    assert.ok(events(r.stderr).some((e) => e.event === 'observability_init' && e.status === 'ok'));
  } finally {
    await tg.close();
    await c.close();
    t.cleanup();
  }
});
