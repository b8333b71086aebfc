// Retry policy: status/message classification, the original's backoff formula, jitter bounds,
// and Retry-After parsing (seconds, HTTP date, retry-after-ms, garbage, cap).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeRetryDelayMs, isTransientMessage, isTransientStatus, MAX_RETRY_AFTER_MS, nextDelayMs, parseRetryAfter, sleep, withJitter } from '../src/providers/retry.js';

test('transient statuses are 408/409/425/429 and 5xx; other 4xx are permanent', () => {
  for (const s of [408, 409, 425, 429, 500, 502, 503, 504, 599]) assert.equal(isTransientStatus(s), true, String(s));
  for (const s of [400, 401, 403, 404, 405, 410, 413, 422, 451]) assert.equal(isTransientStatus(s), false, String(s));
});

test('message classifier matches the original word list, case-insensitively', () => {
  for (const m of ['Rate limit exceeded', 'temporarily unavailable', 'upstream TIMEOUT', 'request timed out', 'please try again', 'model overloaded', 'Service Unavailable']) {
    assert.equal(isTransientMessage(m), true, m);
  }
  for (const m of ['invalid api key', 'Unauthorized', 'insufficient_quota', 'model not found', '']) assert.equal(isTransientMessage(m), false, m);
});

test('computeRetryDelayMs is the original formula (parity cases)', () => {
  assert.equal(computeRetryDelayMs(500, 1200, 4), 1200);
  assert.equal(computeRetryDelayMs(600, 4000, 0), 600);
  assert.equal(computeRetryDelayMs(600, 4000, 1), 1200);
  assert.equal(computeRetryDelayMs(600, 4000, 2), 2400);
  assert.equal(computeRetryDelayMs(600, 4000, 3), 4000);
  // base 0 counts as 1 ms; a max below the base still allows the base
  assert.equal(computeRetryDelayMs(0, 0, 0), 1);
  assert.equal(computeRetryDelayMs(0, 0, 5), 1);
  assert.equal(computeRetryDelayMs(1000, 10, 3), 1000);
  // exponent capped at 12
  assert.equal(computeRetryDelayMs(1, 1e9, 40), 4096);
  assert.equal(computeRetryDelayMs(1, 1e9, -3), 1);
});

test('jitter stays within [75 %, 100 %] of the delay', () => {
  assert.equal(withJitter(1000, () => 0), 750);
  assert.equal(withJitter(1000, () => 1), 1000);
  assert.equal(withJitter(1000, () => 0.5), 875);
  assert.equal(withJitter(1000, () => 7), 1000); // a broken random source is clamped
  for (let i = 0; i < 200; i++) {
    const d = withJitter(4000);
    assert.ok(d >= 3000 && d <= 4000, String(d));
  }
});

test('Retry-After: delta seconds, HTTP date, retry-after-ms, and the 60 s cap', () => {
  const h = (map: Record<string, string>) => (name: string) => map[name];
  assert.equal(parseRetryAfter(h({ 'retry-after': '2' })), 2000);
  assert.equal(parseRetryAfter(h({ 'retry-after': '0' })), 0);
  assert.equal(parseRetryAfter(h({ 'retry-after': '1.5' })), 1500);
  assert.equal(parseRetryAfter(h({ 'retry-after-ms': '250', 'retry-after': '9' })), 250, 'retry-after-ms wins');
  const now = Date.parse('2025-01-01T00:00:00Z');
  assert.equal(parseRetryAfter(h({ 'retry-after': 'Wed, 01 Jan 2025 00:00:05 GMT' }), now), 5000);
  assert.equal(parseRetryAfter(h({ 'retry-after': 'Tue, 31 Dec 2024 23:00:00 GMT' }), now), 0, 'a past date means now');
  assert.equal(parseRetryAfter(h({ 'retry-after': '86400' })), MAX_RETRY_AFTER_MS);
  assert.equal(parseRetryAfter(h({ 'retry-after': 'Fri, 01 Jan 2100 00:00:00 GMT' }), now), MAX_RETRY_AFTER_MS);
});

test('Retry-After garbage is ignored', () => {
  const h = (v: string) => (name: string) => (name === 'retry-after' ? v : undefined);
  for (const bad of ['', '  ', '-1', 'soon', '1e3', '0x10', 'NaN', 'Infinity', '2 seconds', 'Mon, 99 Foo 2025 99:99:99 GMT', '9'.repeat(400)]) {
    const v = parseRetryAfter(h(bad));
    // a huge digit string is a valid (capped) number; everything else is unreadable
    if (bad.startsWith('999')) assert.equal(v, MAX_RETRY_AFTER_MS);
    else assert.equal(v, undefined, JSON.stringify(bad));
  }
  assert.equal(parseRetryAfter(() => null), undefined);
  assert.equal(parseRetryAfter((n) => (n === 'retry-after-ms' ? 'abc' : undefined)), undefined);
});

test('nextDelayMs prefers the server Retry-After, else the jittered backoff', () => {
  const policy = { baseMs: 600, maxBackoffMs: 4000 };
  assert.equal(nextDelayMs(policy, 0, 1234), 1234);
  assert.equal(nextDelayMs(policy, 1, undefined, () => 1), 1200);
  assert.equal(nextDelayMs(policy, 1, undefined, () => 0), 900);
});

test('sleep ends early when its signal aborts', async () => {
  const ctrl = new AbortController();
  const started = Date.now();
  setTimeout(() => ctrl.abort(), 20);
  await sleep(10_000, ctrl.signal);
  assert.ok(Date.now() - started < 5000);
  await sleep(10_000, ctrl.signal); // already aborted: returns at once
});
