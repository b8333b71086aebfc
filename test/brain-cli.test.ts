// The `codex` command group as a user runs it (built CLI, separate processes sharing one
// workspace): queue persistence across processes, JSON shapes, login, disabled, and no codex
// process started by unrelated commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAKE_CODEX, cleanEnv, runCli, tempDir } from './helpers.js';

function fake(dir: string, account: string, config: Record<string, unknown>): void {
  const home = join(dir, 'workspace', 'codex-homes', account);
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'fake-codex.json'), JSON.stringify(config));
}

function logLines(file: string): Array<Record<string, any>> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

test('queue persists across processes: generate queues, status sees it, healthcheck + drain-one run it', async () => {
  const { dir, cleanup } = tempDir('rp-brain-cli-');
  try {
    const env = cleanEnv(dir, { RUSTY_PINCH_CODEX_CLI_BIN: FAKE_CODEX, RUSTY_PINCH_CODEX_ACCOUNTS: 'a1||4' });
    fake(dir, 'a1', { mode: 'not-logged-in' });
    const gen = await runCli(['codex', 'generate', '--prompt', 'persist me'], { env });
    assert.equal(gen.code, 0, gen.stderr);
    assert.deepEqual(JSON.parse(gen.stdout), { status: 'queued', task_id: 1, queue_depth: 1, reason: 'no_healthy_accounts' });

    const st = await runCli(['codex', 'status'], { env });
    assert.equal(st.code, 0, st.stderr);
    const status = JSON.parse(st.stdout);
    assert.deepEqual(Object.keys(status), ['enabled', 'queue_depth', 'queue_capacity', 'queue_mode_reason', 'rate_limit_threshold_percent', 'accounts']);
    assert.equal(status.queue_depth, 1);
    assert.equal(status.queue_mode_reason, 'queue_backpressure');
    assert.deepEqual(Object.keys(status.accounts[0]), ['id', 'healthy', 'used_requests', 'max_requests', 'remaining_percent', 'quota_source', 'quota', 'cooldown_until', 'model', 'api_key_env', 'codex_home', 'last_error', 'last_error_kind', 'fix', 'last_healthcheck_at']);
    assert.equal(status.accounts[0].healthy, false);
    assert.equal(status.accounts[0].quota_source, 'request_window');
    assert.equal(status.accounts[0].fix, 'rusty-pinch codex login --account a1');
    assert.match(status.accounts[0].last_error, /not logged in/i);

    const noop = await runCli(['codex', 'drain-one'], { env });
    assert.deepEqual(JSON.parse(noop.stdout), { status: 'noop', message: 'queue is empty or throttled by rate-limit guard' });

    fake(dir, 'a1', {});
    const hc = await runCli(['codex', 'healthcheck'], { env });
    assert.deepEqual(JSON.parse(hc.stdout), { checks: [{ account_id: 'a1', healthy: true, message: null }] });

    const drained = await runCli(['codex', 'drain-one'], { env });
    assert.equal(drained.code, 0, drained.stderr);
    const d = JSON.parse(drained.stdout);
    assert.deepEqual(Object.keys(d), ['status', 'task_id', 'account_id', 'latency_ms', 'output']);
    assert.equal(d.task_id, 1);
    assert.equal(d.output, 'fake codex saw: persist me');

    const after = JSON.parse((await runCli(['codex', 'status'], { env })).stdout);
    assert.equal(after.queue_depth, 0);
    assert.equal(after.accounts[0].used_requests, 1, 'the use made by drain-one is seen by the next process');
    // The telemetry section was written by these commands.
    const tele = JSON.parse(readFileSync(join(dir, 'data', 'telemetry', 'latest.json'), 'utf8'));
    assert.deepEqual(Object.keys(tele.codex).sort(), ['accounts_cooling', 'accounts_healthy', 'accounts_total', 'enabled', 'queue_capacity', 'queue_depth', 'queue_mode_reason', 'rate_limit_threshold_percent', 'updated_at']);
    assert.equal(tele.codex.queue_depth, 0);
  } finally {
    cleanup();
  }
});

test('generate: executed shape, default purpose, errors exit 1; a drain-one failure is exit 0 with status error', async () => {
  const { dir, cleanup } = tempDir('rp-brain-cli-');
  try {
    const env = cleanEnv(dir, { RUSTY_PINCH_CODEX_CLI_BIN: FAKE_CODEX, RUSTY_PINCH_CODEX_ACCOUNTS: 'a1||4' });
    const ok = await runCli(['codex', 'generate', '--prompt', 'hello'], { env });
    assert.equal(ok.code, 0, ok.stderr);
    const r = JSON.parse(ok.stdout);
    assert.deepEqual(Object.keys(r), ['status', 'task_id', 'account_id', 'latency_ms', 'output']);
    assert.equal(r.output, 'fake codex saw: hello');
    const empty = await runCli(['codex', 'generate', '--prompt', '   '], { env });
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /Error: codex prompt is empty/);
    const missing = await runCli(['codex', 'generate'], { env });
    assert.equal(missing.code, 2);
    // Queue one (account logged out), check its default purpose, then let its run fail.
    fake(dir, 'a1', { mode: 'not-logged-in' });
    const down = await runCli(['codex', 'healthcheck'], { env });
    assert.equal(down.code, 1, 'no healthy account: exit 1');
    assert.equal(JSON.parse(down.stdout).checks[0].healthy, false);
    assert.equal(JSON.parse((await runCli(['codex', 'generate', '--prompt', 'later'], { env })).stdout).status, 'queued');
    const state = JSON.parse(readFileSync(join(dir, 'workspace', 'codex', 'state.json'), 'utf8'));
    assert.equal(state.queue[0].purpose, 'general');
    fake(dir, 'a1', { mode: 'json-fail' });
    await runCli(['codex', 'healthcheck'], { env });
    const failed = await runCli(['codex', 'drain-one'], { env });
    assert.equal(failed.code, 0, failed.stderr);
    const f = JSON.parse(failed.stdout);
    assert.deepEqual(Object.keys(f), ['status', 'message']);
    assert.equal(f.status, 'error');
    assert.match(f.message, /^codex task 2 failed on account 'a1': codex cli exited with code 1: unexpected status 401 Unauthorized: injected failure \(Log this account in again: rusty-pinch codex login --account a1\); will be retried$/);
  } finally {
    cleanup();
  }
});

test('disabled: every codex command fails with the original message', async () => {
  const { dir, cleanup } = tempDir('rp-brain-cli-');
  try {
    const env = cleanEnv(dir, { RUSTY_PINCH_CODEX_ENABLED: 'false', RUSTY_PINCH_CODEX_CLI_BIN: FAKE_CODEX });
    for (const args of [['status'], ['healthcheck'], ['generate', '--prompt', 'x'], ['drain-one'], ['login', '--account', 'default']]) {
      const r = await runCli(['codex', ...args], { env });
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /Error: codex integration is disabled/);
    }
  } finally {
    cleanup();
  }
});

test('login --with-api-key: the key goes on stdin inside the account home, never on argv', async () => {
  const { dir, cleanup } = tempDir('rp-brain-cli-');
  try {
    const log = join(dir, 'log.jsonl');
    const env = cleanEnv(dir, { RUSTY_PINCH_CODEX_CLI_BIN: FAKE_CODEX, RUSTY_PINCH_CODEX_ACCOUNTS: 'a1|KEY_A|4;a2|KEY_B|4', KEY_A: 'sk-login-a', KEY_B: 'sk-login-b' });
    fake(dir, 'a2', { log });
    const r = await runCli(['codex', 'login', '--account', 'a2', '--with-api-key'], { env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.status, 'ok');
    assert.equal(out.account_id, 'a2');
    assert.equal(out.codex_home, join(dir, 'workspace', 'codex-homes', 'a2'));
    const [run] = logLines(log);
    assert.deepEqual(run!.argv, ['login', '--with-api-key']);
    assert.equal(run!.stdin.trim(), 'sk-login-b');
    assert.equal(run!.codex_home, out.codex_home);
    assert.equal(run!.env.includes('KEY_A'), false);
    const unknown = await runCli(['codex', 'login', '--account', 'nope', '--with-api-key'], { env });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown codex account 'nope' \(configured: a1, a2\)/);
    const noKey = await runCli(['codex', 'login', '--account', 'a1', '--with-api-key'], { env: { ...env, KEY_A: ' ' } });
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /required env 'KEY_A' is missing/);
  } finally {
    cleanup();
  }
});

test('unrelated commands start no codex process (stats, run with the local provider, doctor)', async () => {
  const { dir, cleanup } = tempDir('rp-brain-cli-');
  try {
    const log = join(dir, 'log.jsonl');
    const env = cleanEnv(dir, { RUSTY_PINCH_CODEX_CLI_BIN: FAKE_CODEX, FAKE_CODEX_LOG: log });
    fake(dir, 'default', { log });
    for (const args of [['stats'], ['run', '--message', 'hi'], ['doctor']]) {
      const r = await runCli(args, { env });
      assert.ok(r.code === 0 || args[0] === 'doctor', `${args.join(' ')}: ${r.stderr}`);
    }
    assert.equal(existsSync(log), false, 'no codex run was logged');
    assert.equal(existsSync(join(dir, 'workspace', 'codex', 'state.json')), false);
  } finally {
    cleanup();
  }
});
