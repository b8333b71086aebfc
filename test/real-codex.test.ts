// The Brain against the REAL @openai/codex CLI (pinned in test/fixtures/real-codex, installed on
// first use into a cache outside the project) talking to a loopback Responses API of our own
// (test/fakes/responses-api.ts). Covers what an operator meets: their own login used, an API-key
// account logged in with no manual step, no credentials → doctor says how, 401 → unhealthy,
// usage limit → cooldown and failover, a hung network → our timeout ends it, and no key on any
// argv, log line, state file or `codex status` output.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { settingsFromEnv, type Settings } from '../src/config/index.js';
import { openCodexPool, type CodexRunner } from '../src/brain/index.js';
import { runCodexProcess, type CodexRunOptions } from '../src/providers/index.js';
import { setEventSink } from '../src/observe/index.js';
import { cleanEnv, processGone, runCli, tempDir } from './helpers.js';
import { operatorLogin, realCodexBin, realCodexVersion, writeCodexHomeConfig } from './real-codex.js';
import { fakeChatgptAuth, startFakeResponsesApi } from './fakes/responses-api.js';

let CODEX = '';
before(() => {
  // Throws (the suite fails) when the CLI cannot be installed: never a silent skip.
  CODEX = realCodexBin();
});

const KEY_A = 'sk-real-test-key-alpha-0123456789';
const KEY_B = 'sk-real-test-key-bravo-9876543210';

/** A runner that records every argv and environment it was given (for the no-key-on-argv check). */
function recordingRunner(): { runner: CodexRunner; calls: CodexRunOptions[] } {
  const calls: CodexRunOptions[] = [];
  return { calls, runner: (o) => (calls.push(o), runCodexProcess(o)) };
}

function captureEvents(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const prev = setEventSink((line) => lines.push(line));
  return { lines, restore: () => setEventSink(prev) };
}

function settingsFor(dir: string, extra: Record<string, string>): Settings {
  return settingsFromEnv(cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'codex', RUSTY_PINCH_CODEX_CLI_BIN: CODEX, RUSTY_PINCH_CODEX_TIMEOUT_SECS: '60', ...extra }), dir);
}

test(`real codex ${realCodexVersion()}: the operator's own login answers a chat turn end to end (rusty-pinch run)`, async () => {
  const api = await startFakeResponsesApi({ kind: 'text', text: 'hello from the real cli', usage: { input: 40, cached: 8, output: 6, reasoning: 2 } });
  const { dir, cleanup } = tempDir('rp-real-codex-');
  try {
    const home = join(dir, 'my-codex-home');
    writeCodexHomeConfig(home, api.baseUrl);
    operatorLogin(CODEX, home, KEY_A); // what `codex login` leaves behind
    const env = cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'codex', RUSTY_PINCH_CODEX_CLI_BIN: CODEX, CODEX_HOME: home, RUSTY_PINCH_CODEX_TIMEOUT_SECS: '60' });
    const r = await runCli(['run', '--session', 'op', '--message', 'hi'], { env, timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'hello from the real cli');
    assert.equal(api.requests.length, 1);
    assert.equal(api.requests[0]!.authorization, `Bearer ${KEY_A}`, "the operator's own credentials were used");
    assert.match(api.requests[0]!.body, /hi/);
    const turn = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.event === 'turn');
    assert.equal(turn.status, 'ok');
    // Token usage reached telemetry and stats.
    const stats = JSON.parse((await runCli(['stats'], { env })).stdout);
    assert.deepEqual(stats.telemetry.codex_tokens, { cached_input_tokens: 8, input_tokens: 40, output_tokens: 6, reasoning_output_tokens: 2, turns: 1 });
    // doctor: ok, the real version (not codex's WARNING line), the account logged in.
    const doc = await runCli(['doctor', '--json'], { env, timeoutMs: 60_000 });
    const d = JSON.parse(doc.stdout);
    assert.equal(d.codex_cli, `ok (codex-cli ${realCodexVersion()})`);
    assert.match(d.codex_account_default, /API key login/);
    assert.equal(d.checks.filter((c: { level: string }) => c.level === 'error').length, 0, doc.stdout);
  } finally {
    cleanup();
    await api.close();
  }
});

test('real codex: an API-key account is logged in with no manual step; the key is on no argv, in no state or status', async () => {
  const api = await startFakeResponsesApi({ kind: 'text', text: 'answered by main' });
  const { dir, cleanup } = tempDir('rp-real-codex-');
  const ev = captureEvents();
  try {
    const settings = settingsFor(dir, { RUSTY_PINCH_CODEX_ACCOUNTS: 'main|MY_KEY|100|', MY_KEY: KEY_A });
    writeCodexHomeConfig(join(settings.codex.homeRoot, 'main'), api.baseUrl); // the operator points the home at their endpoint
    const { runner, calls } = recordingRunner();
    const pool = openCodexPool(settings, { runner });
    const r = await pool.generate({ prompt: 'who answers?', purpose: 'test' });
    assert.equal(r.status, 'executed');
    assert.equal((r as { output: string }).output, 'answered by main');
    const auth = JSON.parse(readFileSync(join(settings.codex.homeRoot, 'main', 'auth.json'), 'utf8'));
    assert.equal(auth.auth_mode, 'apikey', 'auto-login wrote the home');
    assert.ok(calls.some((c) => c.args.join(' ') === 'login --with-api-key' && c.stdin?.trim() === KEY_A), 'the key went on stdin');
    for (const c of calls) assert.equal(c.args.join(' ').includes(KEY_A), false, `key on argv: ${c.args.join(' ')}`);
    assert.equal(api.requests[0]!.authorization, `Bearer ${KEY_A}`);
    const status = JSON.stringify(await pool.status());
    assert.equal(status.includes(KEY_A), false);
    assert.equal(readFileSync(pool.statePath, 'utf8').includes(KEY_A), false);
    assert.equal(ev.lines.join('\n').includes(KEY_A), false);
  } finally {
    ev.restore();
    cleanup();
    await api.close();
  }
});

test('real codex: no credentials → doctor says the account is not logged in and how to fix it', async () => {
  const { dir, cleanup } = tempDir('rp-real-codex-');
  try {
    const env = cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'codex', RUSTY_PINCH_CODEX_CLI_BIN: CODEX, CODEX_HOME: join(dir, 'empty-home') });
    const doc = await runCli(['doctor'], { env, timeoutMs: 60_000 });
    assert.equal(doc.code, 1, doc.stdout);
    assert.match(doc.stdout, /status: error/);
    assert.match(doc.stdout, /codex account 'default' is not logged in/);
    assert.match(doc.stdout, /hint: Run: codex login/);
    assert.match(doc.stdout, new RegExp(`codex_cli: ok \\(codex-cli ${realCodexVersion().replace(/\./g, '\\.')}\\)`));
    const acc = settingsFromEnv(cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'codex', RUSTY_PINCH_CODEX_CLI_BIN: CODEX, RUSTY_PINCH_CODEX_ACCOUNTS: 'ops||10', RUSTY_PINCH_CODEX_AUTO_LOGIN: 'false' }), dir);
    const doc2 = await runCli(['doctor'], { env: acc.env as Record<string, string>, timeoutMs: 60_000 });
    assert.match(doc2.stdout, /codex account 'ops' is not logged in/);
    assert.match(doc2.stdout, /rusty-pinch codex login --account ops/);
  } finally {
    cleanup();
  }
});

test('real codex: 401 → the account is unhealthy with the log-in-again hint, a passing login check does not revive it, and the key never leaks', async () => {
  const api = await startFakeResponsesApi({ kind: 'unauthorized' });
  const { dir, cleanup } = tempDir('rp-real-codex-');
  const ev = captureEvents();
  try {
    const settings = settingsFor(dir, { RUSTY_PINCH_CODEX_ACCOUNTS: 'main|MY_KEY|100|', MY_KEY: KEY_A });
    writeCodexHomeConfig(join(settings.codex.homeRoot, 'main'), api.baseUrl);
    const pool = openCodexPool(settings);
    const r = await pool.generate({ prompt: 'hello', purpose: 'test' });
    assert.equal(r.status, 'queued', 'no other account: the task waits instead of failing');
    let st = (await pool.status()) as { accounts: Array<Record<string, unknown>> };
    assert.equal(st.accounts[0]!.healthy, false);
    assert.equal(st.accounts[0]!.last_error_kind, 'auth');
    assert.match(String(st.accounts[0]!.last_error), /401 Unauthorized.*rusty-pinch codex login --account main/s);
    assert.equal(st.accounts[0]!.fix, 'rusty-pinch codex login --account main');
    // `login status` still says "API key configured": what the run said wins.
    await pool.healthcheck(true);
    st = (await pool.status()) as typeof st;
    assert.equal(st.accounts[0]!.healthy, false);
    // doctor tells the truth about it.
    const doc = await runCli(['doctor'], { env: settings.env as Record<string, string>, timeoutMs: 60_000 });
    assert.match(doc.stdout, /codex account 'main': the API refused its login on the last run \(401\)/);
    for (const text of [JSON.stringify(st), readFileSync(pool.statePath, 'utf8'), ev.lines.join('\n'), doc.stdout, doc.stderr]) assert.equal(text.includes(KEY_A), false);
  } finally {
    ev.restore();
    cleanup();
    await api.close();
  }
});

test('real codex: a ChatGPT usage limit cools the account until the reset time and the turn fails over to the next account', async () => {
  const resetsAt = Math.floor(Date.now() / 1000) + 3 * 3600;
  const limited = await startFakeResponsesApi({ kind: 'usage-limit', resetsAt });
  const fine = await startFakeResponsesApi({ kind: 'text', text: 'from the backup', rateLimits: { primaryUsedPercent: 80, secondaryUsedPercent: 10, resetsAt } });
  const { dir, cleanup } = tempDir('rp-real-codex-');
  try {
    const settings = settingsFor(dir, { RUSTY_PINCH_CODEX_ACCOUNTS: 'plus|KEY_PLUS|100;backup|KEY_BACKUP|50', KEY_PLUS: KEY_A, KEY_BACKUP: KEY_B });
    writeCodexHomeConfig(join(settings.codex.homeRoot, 'plus'), limited.baseUrl);
    writeCodexHomeConfig(join(settings.codex.homeRoot, 'backup'), fine.baseUrl);
    const pool = openCodexPool(settings);
    const r = (await pool.generate({ prompt: 'hello', purpose: 'test' })) as { status: string; account_id: string; output: string };
    assert.deepEqual([r.status, r.account_id, r.output], ['executed', 'backup', 'from the backup']);
    assert.equal(limited.requests.length, 1, 'usage limit is not retried by the CLI');
    const st = (await pool.status()) as { accounts: Array<Record<string, any>> };
    const plus = st.accounts[0]!;
    assert.equal(plus.healthy, true, 'out of quota is not broken');
    assert.equal(plus.last_error_kind, 'quota');
    assert.equal(plus.remaining_percent, 0);
    // Cooling until the reset the CLI printed (minute precision, local time).
    assert.ok(Math.abs(Date.parse(plus.cooldown_until) - resetsAt * 1000) < 61_000, `${plus.cooldown_until} vs ${new Date(resetsAt * 1000).toISOString()}`);
    // The backup's real quota (from the CLI's rollout) now decides: 80 % used → 20 % left ≤ 25 % → queue.
    const backup = st.accounts[1]!;
    assert.equal(backup.quota_source, 'rollout');
    assert.equal(backup.remaining_percent, 20);
    const q = await pool.generate({ prompt: 'again', purpose: 'test' });
    assert.equal(q.status, 'queued');
    assert.equal((q as { reason: string }).reason, 'rate_limit_guard');
  } finally {
    cleanup();
    await limited.close();
    await fine.close();
  }
});

test('real codex: a network that never answers is ended by our timeout; the whole process group is gone', async () => {
  const api = await startFakeResponsesApi({ kind: 'hang' });
  const { dir, cleanup } = tempDir('rp-real-codex-');
  try {
    const settings = settingsFor(dir, { RUSTY_PINCH_CODEX_ACCOUNTS: 'main|MY_KEY|100|', MY_KEY: KEY_A, RUSTY_PINCH_CODEX_TIMEOUT_SECS: '4' });
    writeCodexHomeConfig(join(settings.codex.homeRoot, 'main'), api.baseUrl);
    const pool = openCodexPool(settings);
    const seen = api.nextRequest();
    const run = pool.generate({ prompt: 'hello', purpose: 'test' });
    await seen; // the CLI is waiting on the hung stream now
    // Its processes (the npm launcher and the native binary) name our scratch dir on argv.
    const pids = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(join(dir, 'workspace'));
        } catch {
          return false;
        }
      })
      .map(Number);
    assert.ok(pids.length >= 1, 'the codex processes were found while running');
    await assert.rejects(run, /timed out after 4s and was stopped/);
    const st = (await pool.status()) as { accounts: Array<Record<string, any>> };
    assert.equal(st.accounts[0]!.last_error_kind, 'timeout');
    assert.equal(st.accounts[0]!.healthy, true, 'a dead network is not the account’s fault');
    // No codex process of this run is left.

    for (const pid of pids) assert.ok(await processGone(pid), `codex process ${pid} outlived the timeout`);
    assert.ok(existsSync(pool.statePath));
  } finally {
    cleanup();
    await api.close();
  }
});

test('real codex: a ChatGPT account is seeded from auth material and its real quota (app-server) drives the 25% rule', async () => {
  const api = await startFakeResponsesApi({ kind: 'text', text: 'chatgpt answer' });
  const { dir, cleanup } = tempDir('rp-real-codex-');
  try {
    const material = Buffer.from(JSON.stringify(fakeChatgptAuth('acc-plus'))).toString('base64');
    const settings = settingsFor(dir, { RUSTY_PINCH_CODEX_ACCOUNTS: 'plus||100', RUSTY_PINCH_CODEX_CHATGPT_AUTH_JSON_B64: material });
    writeCodexHomeConfig(join(settings.codex.homeRoot, 'plus'), api.baseUrl);
    api.chatgptUsage = { primaryUsedPercent: 80, secondaryUsedPercent: 30, resetsAt: Math.floor(Date.now() / 1000) + 1800 };
    const pool = openCodexPool(settings);
    const h = await pool.healthcheck(true);
    assert.deepEqual(h.checks, [{ account_id: 'plus', healthy: true, message: null }]);
    assert.equal(JSON.parse(readFileSync(join(settings.codex.homeRoot, 'plus', 'auth.json'), 'utf8')).auth_mode, 'chatgpt');
    assert.ok(api.usageReads >= 1, 'the quota came from the backend via app-server');
    let acc = ((await pool.status()) as { accounts: Array<Record<string, any>> }).accounts[0]!;
    assert.equal(acc.quota_source, 'app-server');
    assert.equal(acc.remaining_percent, 20, '100 − max(80, 30)');
    const q = await pool.generate({ prompt: 'hello', purpose: 'test' });
    assert.equal(q.status, 'queued', 'remaining 20 % ≤ 25 %: new work waits for the reset');
    assert.equal((q as { reason: string }).reason, 'rate_limit_guard');
    // The window resets (the backend now says 10 % used): the queued turn runs.
    api.chatgptUsage = { primaryUsedPercent: 10, secondaryUsedPercent: 5, resetsAt: Math.floor(Date.now() / 1000) + 1800 };
    await pool.healthcheck(true);
    acc = ((await pool.status()) as { accounts: Array<Record<string, any>> }).accounts[0]!;
    assert.equal(acc.remaining_percent, 90);
    const d = (await pool.drainOne()) as { status: string; output: string };
    assert.deepEqual([d.status, d.output], ['executed', 'chatgpt answer']);
    assert.match(api.requests.at(-1)!.authorization ?? '', /^Bearer ey/, 'the ChatGPT access token was used');
  } finally {
    cleanup();
    await api.close();
  }
});
