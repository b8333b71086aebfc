// Login bootstrap, redaction, the old-CLI fallback, the one failure classifier and honest turn
// accounting, against the fast fake codex (test/fakes/fake-codex.mjs behaves like the real CLI
// where it matters; test/real-codex.test.ts drives the real one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingsFromEnv, type Settings } from '../src/config/index.js';
import { deviceLoginsSettled, loginAccount, openCodexPool } from '../src/brain/index.js';
import { classifyCodexText, usageLimitResetAt } from '../src/providers/index.js';
import { quotaFromRollout } from '../src/brain/quota.js';
import { setEventSink } from '../src/observe/index.js';
import { FAKE_CODEX, cleanEnv, runCli, tempDir } from './helpers.js';

function setup(extra: Record<string, string> = {}): { settings: Settings; dir: string; cleanup: () => void } {
  const { dir, cleanup } = tempDir('rp-login-');
  return { settings: settingsFromEnv(cleanEnv(dir, { RUSTY_PINCH_CODEX_CLI_BIN: FAKE_CODEX, ...extra }), dir), dir, cleanup };
}

function fake(settings: Settings, account: string, config: Record<string, unknown>): string {
  const home = join(settings.codex.homeRoot, account);
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'fake-codex.json'), JSON.stringify(config));
  return home;
}

test('classifier: the real CLI texts map to auth, quota, rate limit, network; reset times are read', () => {
  assert.equal(classifyCodexText('unexpected status 401 Unauthorized: Incorrect API key provided'), 'auth');
  assert.equal(classifyCodexText('Not logged in'), 'auth');
  assert.equal(classifyCodexText("You've hit your usage limit. try again at 7:00 PM."), 'quota');
  assert.equal(classifyCodexText('Quota exceeded. Check your plan and billing details.'), 'quota');
  assert.equal(classifyCodexText('exceeded retry limit, last status: 429 Too Many Requests'), 'rate_limit');
  assert.equal(classifyCodexText('Reconnecting... waiting for network (Connection failed: error sending request)'), 'network');
  assert.equal(classifyCodexText("error: unexpected argument '--json' found"), 'usage');
  assert.equal(classifyCodexText('something else'), 'other');
  const now = new Date(2026, 10, 30, 12, 0).getTime();
  assert.equal(usageLimitResetAt('try again at 7:00 PM.', now), new Date(2026, 10, 30, 19, 0).getTime());
  assert.equal(usageLimitResetAt('try again at 9:15 AM.', now), new Date(2026, 11, 1, 9, 15).getTime(), 'past today → tomorrow');
  assert.equal(usageLimitResetAt('try again at Mar 17th, 2030 5:46 PM.', now), new Date(2030, 2, 17, 17, 46).getTime());
  for (const garbage of ['', 'try again at 25:99 PM', 'try again at Foo 1st, 2030 1:00 PM', 'try again later']) assert.equal(usageLimitResetAt(garbage, now), undefined);
});

test('rollout quota: the last token_count rate_limits wins; garbage lines are skipped', () => {
  const line = (p: number, s: number | null) => JSON.stringify({ type: 'event_msg', payload: { type: 'token_count', rate_limits: { primary: { used_percent: p, resets_at: 100 }, secondary: s === null ? null : { used_percent: s, resets_at: 200 } } } });
  const q = quotaFromRollout([line(10, 5), '{not json', line(30, 60), 'garbage'].join('\n'), 7)!;
  assert.deepEqual(q, { primary_used_percent: 30, secondary_used_percent: 60, resets_at_ms: 200_000, source: 'rollout', read_at_ms: 7 });
  assert.equal(quotaFromRollout('{"type":"token_count"}\nnothing', 1), undefined);
  assert.equal(quotaFromRollout(line(200, null), 1)!.primary_used_percent, 100, 'clamped');
});

test('a codex error that prints its environment leaks no account key into state, status or events', async () => {
  const secret = 'plain-named-secret-value-42';
  const { settings, cleanup } = setup({ RUSTY_PINCH_CODEX_ACCOUNTS: 'a1|MY_KEY|10', MY_KEY: secret });
  const events: string[] = [];
  const prev = setEventSink((l) => events.push(l));
  try {
    // A CLI whose exec fails by dumping its environment (checks pass).
    const pool = openCodexPool(settings, {
      runner: async (o) =>
        o.args[0] === 'exec'
          ? { exitCode: 1, signal: null, stdout: '', stderr: `fatal: env dump MY_KEY=${o.env.MY_KEY} CODEX_API_KEY=${o.env.CODEX_API_KEY}`, timedOut: false, latencyMs: 1 }
          : { exitCode: 0, signal: null, stdout: 'codex-cli 0.171.0\n', stderr: '', timedOut: false, latencyMs: 1 },
    });
    await assert.rejects(pool.generate({ prompt: 'x', purpose: 'p' }), (err: Error) => !err.message.includes(secret));
    const status = JSON.stringify(await pool.status());
    assert.match(status, /env dump MY_KEY=\*\*\*/);
    assert.equal(status.includes(secret), false);
    assert.equal(readFileSync(pool.statePath, 'utf8').includes(secret), false);
    assert.equal(events.join('\n').includes(secret), false);
  } finally {
    setEventSink(prev);
    cleanup();
  }
});

test('API-key account: auto-login through stdin on the first check, then healthy; the operator home is never written', async () => {
  const { settings, cleanup } = setup({ RUSTY_PINCH_CODEX_ACCOUNTS: 'main|MY_KEY|10', MY_KEY: 'sk-auto-login-123456' });
  try {
    const log = join(settings.workspace, '..', 'log.jsonl');
    fake(settings, 'main', { require_auth: true, log });
    const pool = openCodexPool(settings);
    const h = await pool.healthcheck(true);
    assert.deepEqual(h.checks, [{ account_id: 'main', healthy: true, message: null }]);
    const home = join(settings.codex.homeRoot, 'main');
    assert.equal(JSON.parse(readFileSync(join(home, 'auth.json'), 'utf8')).auth_mode, 'apikey');
    assert.match(readFileSync(join(home, 'config.toml'), 'utf8'), /^cli_auth_credentials_store = "file"$/m);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.argv.join(' ') === 'login --with-api-key'));
    assert.equal(readFileSync(log, 'utf8').includes('sk-auto-login-123456') && lines.some((l) => l.argv.join(' ').includes('sk-auto')), false);
    // Mode off: no bootstrap; the account stays logged out with the command that fixes it.
    const off = settingsFromEnv({ ...settings.env, RUSTY_PINCH_CODEX_AUTO_LOGIN_MODE: 'off', RUSTY_PINCH_CODEX_HOME_ROOT: join(settings.workspace, 'other-homes') }, settings.cwd);
    mkdirSync(join(off.codex.homeRoot, 'main'), { recursive: true });
    writeFileSync(join(off.codex.homeRoot, 'main', 'fake-codex.json'), JSON.stringify({ require_auth: true }));
    const c = await openCodexPool(off).healthcheck(true);
    assert.equal(c.checks[0]!.healthy, false);
    assert.match(c.checks[0]!.message!, /auto-login is off.*rusty-pinch codex login --account main/);
  } finally {
    cleanup();
  }
});

test('ChatGPT auth material seeds one home only; a second account is refused with a clear error', async () => {
  const { settings, dir, cleanup } = setup({ RUSTY_PINCH_CODEX_ACCOUNTS: 'one||10;two||10' });
  try {
    const authFile = join(dir, 'auth.json');
    writeFileSync(authFile, JSON.stringify({ auth_mode: 'chatgpt', tokens: { refresh_token: 'rt-seed-material-123456' } }));
    const s = settingsFromEnv({ ...settings.env, RUSTY_PINCH_CODEX_CHATGPT_AUTH_FILE: authFile, RUSTY_PINCH_CODEX_CHATGPT_DEVICE_AUTH: 'false' }, settings.cwd);
    fake(s, 'one', { require_auth: true });
    fake(s, 'two', { require_auth: true });
    const h = await openCodexPool(s).healthcheck(true);
    // Exactly one home gets the login (whichever check came first); the other is refused.
    const seeded = h.checks.filter((c) => c.healthy);
    const refused = h.checks.filter((c) => !c.healthy);
    assert.equal(seeded.length, 1);
    assert.equal(refused.length, 1);
    const [owner, other] = [seeded[0]!.account_id, refused[0]!.account_id];
    assert.equal(JSON.parse(readFileSync(join(s.codex.homeRoot, owner, 'auth.json'), 'utf8')).auth_mode, 'chatgpt');
    assert.match(refused[0]!.message!, new RegExp(`already seeded account '${owner}'; one ChatGPT login cannot serve two accounts`));
    assert.equal(existsSync(join(s.codex.homeRoot, other, 'auth.json')), false);
    // Checked again: still one owner (the registry remembers).
    const again = await openCodexPool(s).healthcheck(true);
    assert.deepEqual(again.checks.filter((c) => c.healthy).map((c) => c.account_id), [owner]);
    // Garbage material is a clear error, nothing written.
    writeFileSync(authFile, 'not json');
    const bad = settingsFromEnv({ ...s.env, RUSTY_PINCH_CODEX_HOME_ROOT: join(dir, 'h2') }, s.cwd);
    mkdirSync(join(bad.codex.homeRoot, 'one'), { recursive: true });
    writeFileSync(join(bad.codex.homeRoot, 'one', 'fake-codex.json'), JSON.stringify({ require_auth: true }));
    const b = await openCodexPool(bad).healthcheck(true);
    assert.match(b.checks[0]!.message!, /ChatGPT auth material is not readable JSON/);
    for (const garbage of ['null', '[1,2]', '"text"', '']) {
      writeFileSync(authFile, garbage);
      const g = await openCodexPool(bad).healthcheck(true);
      assert.match(g.checks[0]!.message!, /ChatGPT auth material is not readable JSON/, garbage);
    }
  } finally {
    cleanup();
  }
});

test('device auth: the URL and code reach the operator; the home is logged in afterwards', async () => {
  const { settings, cleanup } = setup({ RUSTY_PINCH_CODEX_ACCOUNTS: 'dev||10' });
  try {
    fake(settings, 'dev', { mode: 'device-auth', require_auth: true });
    const shown: string[] = [];
    const r = await loginAccount(settings, 'dev', { withApiKey: false, deviceAuth: true, onDeviceCode: (id, url, code) => void shown.push(`${id} ${url} ${code}`) });
    assert.equal(r.status, 'ok', r.message ?? '');
    assert.deepEqual(shown, ['dev https://auth.example.test/codex/device ABCD-EFGHJ']);
    // Under serve the pool's health check runs it and hands the code to the notify hook.
    fake(settings, 'dev', { mode: 'device-auth', require_auth: true });
    const again = settingsFromEnv({ ...settings.env, RUSTY_PINCH_CODEX_HOME_ROOT: join(settings.workspace, 'h3') }, settings.cwd);
    mkdirSync(join(again.codex.homeRoot, 'dev'), { recursive: true });
    writeFileSync(join(again.codex.homeRoot, 'dev', 'fake-codex.json'), JSON.stringify({ mode: 'device-auth', require_auth: true }));
    const notified: string[] = [];
    const pool = openCodexPool(again, { onDeviceCode: (_id, url, code) => void notified.push(`${url} ${code}`) });
    // The login runs in the background: this check (a chat turn may be waiting on it) returns at once.
    const h = await pool.healthcheck(true);
    assert.equal(h.checks[0]!.healthy, false);
    assert.match(h.checks[0]!.message!, /waiting for the ChatGPT device login/);
    await deviceLoginsSettled();
    assert.deepEqual(notified, ['https://auth.example.test/codex/device ABCD-EFGHJ']);
    assert.equal((await pool.healthcheck(true)).checks[0]!.healthy, true);
  } finally {
    cleanup();
  }
});

test('an older CLI without --json: the run falls back to plain text', async () => {
  const { settings, cleanup } = setup({ RUSTY_PINCH_CODEX_ACCOUNTS: 'old||10' });
  try {
    const log = join(settings.workspace, '..', 'old.jsonl');
    fake(settings, 'old', { mode: 'old-cli', log, reply: 'plain answer' });
    const r = (await openCodexPool(settings).generate({ prompt: 'hi', purpose: 'p' })) as { status: string; output: string };
    assert.deepEqual([r.status, r.output], ['executed', 'plain answer']);
    const execs = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.argv[0] === 'exec');
    assert.equal(execs.length, 2);
    assert.ok(execs[0].argv.includes('--json'));
    assert.equal(execs[1].argv.includes('--json'), false);
  } finally {
    cleanup();
  }
});

test('a queued turn is logged with status "queued" and counted apart from ok and error turns', async () => {
  const { dir, cleanup } = tempDir('rp-login-');
  try {
    const env = cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'codex', RUSTY_PINCH_CODEX_CLI_BIN: FAKE_CODEX });
    mkdirSync(env.CODEX_HOME!, { recursive: true });
    writeFileSync(join(env.CODEX_HOME!, 'fake-codex.json'), JSON.stringify({ mode: 'not-logged-in' }));
    const r = await runCli(['run', '--message', 'hi'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Your request is queued/);
    const turn = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.event === 'turn');
    assert.equal(turn.status, 'queued');
    const tele = JSON.parse(readFileSync(join(dir, 'data', 'telemetry', 'latest.json'), 'utf8'));
    assert.deepEqual([tele.total_turns, tele.ok_turns, tele.error_turns, tele.queued_turns], [1, 0, 0, 1]);
    // The default account is the operator's own home: doctor names `codex login`.
    const doc = await runCli(['doctor'], { env });
    assert.match(doc.stdout, /codex account 'default' is not logged in/);
    assert.match(doc.stdout, /Run: codex login/);
  } finally {
    cleanup();
  }
});

test('`codex status` reads the state and spawns nothing; the codex-healthcheck job fails when no account is healthy', async () => {
  const { settings, dir, cleanup } = setup({ RUSTY_PINCH_CODEX_ACCOUNTS: 'a1||10;a2||10' });
  try {
    const log = join(dir, 'spawns.jsonl');
    fake(settings, 'a1', { mode: 'not-logged-in', log });
    fake(settings, 'a2', { mode: 'not-logged-in', log });
    const st = await runCli(['codex', 'status'], { env: settings.env as Record<string, string> });
    assert.equal(st.code, 0, st.stderr);
    assert.equal(existsSync(log), false, 'status started no codex process');
    const { pulseCallbacks } = await import('../src/app/pulse-wiring.js');
    const { Outbox, Telemetry } = await import('../src/store/index.js');
    const pool = openCodexPool(settings);
    const cb = pulseCallbacks({ settings, door: () => Promise.reject(new Error('unused')), telemetry: new Telemetry(settings.telemetryFile), outbox: new Outbox(settings.workspace), codex: async () => pool });
    await assert.rejects(cb.codexHealthcheck!(), /no healthy codex account: a1: .*not logged in.*; a2: /i);
    fake(settings, 'a2', {});
    assert.equal(await cb.codexHealthcheck!(), 'codex health checks executed: 2 (1 healthy)');
  } finally {
    cleanup();
  }
});
