// CodexPool against the fake codex executable (real processes, temp workspace, controllable
// clock): the original's parity cases, per-account environment, health and recovery, timeout
// kill, bounded retries, crash recovery, queue limits and a corrupt state file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { settingsFromEnv, type Settings } from '../src/config/index.js';
import { openCodexPool, type DoneTask, type TaskResult } from '../src/brain/index.js';
import { setEventSink } from '../src/observe/index.js';
import { FAKE_CODEX, cleanEnv, processGone, tempDir } from './helpers.js';

function setup(extra: Record<string, string> = {}): { settings: Settings; dir: string; cleanup: () => void } {
  const { dir, cleanup } = tempDir('rp-brain-');
  const env = cleanEnv(dir, { RUSTY_PINCH_CODEX_CLI_BIN: FAKE_CODEX, RUSTY_PINCH_CODEX_ACCOUNTS: 'a1||4', ...extra });
  return { settings: settingsFromEnv(env, dir), dir, cleanup };
}

/** Per-account fake behaviour: the fake reads `$CODEX_HOME/fake-codex.json`. */
function fake(settings: Settings, account: string, config: Record<string, unknown>): void {
  const home = join(settings.codex.homeRoot, account);
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'fake-codex.json'), JSON.stringify(config));
}

function logLines(file: string): Array<Record<string, any>> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function captureEvents(): { events: Array<Record<string, unknown>>; restore: () => void } {
  const events: Array<Record<string, unknown>> = [];
  const prev = setEventSink((line) => events.push(JSON.parse(line)));
  return { events, restore: () => setEventSink(prev) };
}

test('parity 6.1 #1/#2: max 4 → submits 1–3 run, 4 is queued; after the window rolls drain-one runs it', async () => {
  const { settings, cleanup } = setup({ RUSTY_PINCH_CODEX_RATE_WINDOW_SECS: '3600' });
  try {
    let now = 1_000_000;
    const pool = openCodexPool(settings, { clock: () => now });
    for (let i = 1; i <= 3; i++) {
      const r = await pool.generate({ prompt: `task ${i}`, purpose: 'general' });
      assert.deepEqual({ ...r, latency_ms: 0 }, { status: 'executed', task_id: i, account_id: 'a1', latency_ms: 0, output: `fake codex saw: task ${i}` });
      now += 1000;
    }
    const q = await pool.generate({ prompt: 'task 4', purpose: 'general' });
    assert.deepEqual(q, { status: 'queued', task_id: 4, queue_depth: 1, reason: 'rate_limit_guard' });
    const st = (await pool.status()) as any;
    assert.equal(st.queue_depth, 1);
    assert.equal(st.queue_mode_reason, 'queue_backpressure');
    const { id, healthy, used_requests, max_requests, remaining_percent, quota_source, model, api_key_env, last_error, fix } = st.accounts[0];
    assert.deepEqual({ id, healthy, used_requests, max_requests, remaining_percent, quota_source, model, api_key_env, last_error, fix }, { id: 'a1', healthy: true, used_requests: 3, max_requests: 4, remaining_percent: 25, quota_source: 'request_window', model: null, api_key_env: null, last_error: null, fix: null });
    assert.deepEqual(await pool.drainOne(), { status: 'noop', message: 'queue is empty or throttled by rate-limit guard' });
    now += 3600 * 1000 - 2000; // the first use leaves the window
    const d = (await pool.drainOne()) as any;
    assert.equal(d.status, 'executed');
    assert.equal(d.task_id, 4);
    assert.equal(d.output, 'fake codex saw: task 4');
    assert.equal(((await pool.status()) as any).queue_depth, 0);
  } finally {
    cleanup();
  }
});

test('per-account environment: each child sees only its own key and its own CODEX_HOME', async () => {
  const { settings, dir, cleanup } = setup({
    RUSTY_PINCH_CODEX_ACCOUNTS: 'a1|KEY_A|10;a2|KEY_B|10',
    KEY_A: 'secret-a',
    KEY_B: 'secret-b',
    UNRELATED_SECRET: 'zzz',
    OPENAI_API_KEY: 'sk-parent',
  });
  try {
    const log = join(dir, 'log.jsonl');
    const show = 'KEY_A,KEY_B,UNRELATED_SECRET,OPENAI_API_KEY,CODEX_HOME';
    fake(settings, 'a1', { log, show_env: show });
    fake(settings, 'a2', { log, show_env: show });
    const pool = openCodexPool(settings);
    assert.equal((await pool.generate({ prompt: 'one', purpose: 'p' })).status, 'executed');
    assert.equal((await pool.generate({ prompt: 'two', purpose: 'p' })).status, 'executed');
    const runs = logLines(log).filter((e) => e.env_values);
    assert.equal(runs.length, 2);
    const byHome = Object.fromEntries(runs.map((r) => [r.codex_home, r.env_values]));
    const h1 = join(settings.codex.homeRoot, 'a1');
    const h2 = join(settings.codex.homeRoot, 'a2');
    assert.deepEqual(byHome[h1], { KEY_A: 'secret-a', KEY_B: null, UNRELATED_SECRET: null, OPENAI_API_KEY: null, CODEX_HOME: h1 });
    assert.deepEqual(byHome[h2], { KEY_A: null, KEY_B: 'secret-b', UNRELATED_SECRET: null, OPENAI_API_KEY: null, CODEX_HOME: h2 });
    // The prompt never rides on argv.
    for (const r of runs) assert.equal(r.argv.some((a: string) => a === 'one' || a === 'two'), false);
    // Homes are private.
    assert.equal(spawnSync('stat', ['-c', '%a', h1]).stdout.toString().trim(), '700');
  } finally {
    cleanup();
  }
});

test('a missing key variable: the account is unhealthy with the original message', async () => {
  const { settings, cleanup } = setup({ RUSTY_PINCH_CODEX_ACCOUNTS: 'a1|NOPE_KEY|4' });
  try {
    const pool = openCodexPool(settings);
    const h = await pool.healthcheck(true);
    assert.deepEqual(h.checks, [{ account_id: 'a1', healthy: false, message: "required env 'NOPE_KEY' is missing for codex account" }]);
    assert.equal((await pool.generate({ prompt: 'x', purpose: 'p' })).status, 'queued');
  } finally {
    cleanup();
  }
});

test('health: "Not logged in" → unhealthy and skipped; recovers at the next due check', async () => {
  const { settings, dir, cleanup } = setup({ RUSTY_PINCH_CODEX_ACCOUNTS: 'a1||10;a2||10', RUSTY_PINCH_CODEX_HEALTHCHECK_INTERVAL_SECS: '300' });
  try {
    let now = 5_000_000;
    const log = join(dir, 'log.jsonl');
    fake(settings, 'a1', { mode: 'not-logged-in', log });
    fake(settings, 'a2', { log });
    const pool = openCodexPool(settings, { clock: () => now });
    const h = await pool.healthcheck(true);
    assert.equal(h.checks.length, 2);
    assert.equal(h.checks[0]!.healthy, false);
    assert.match(h.checks[0]!.message!, /not logged in/i);
    assert.match(h.checks[0]!.message!, /codex login --account a1/);
    assert.deepEqual(h.checks[1], { account_id: 'a2', healthy: true, message: null });
    // The login check ran in the account's own home.
    const loginRuns = logLines(log).filter((e) => e.argv[0] === 'login');
    assert.deepEqual(loginRuns.map((e) => e.codex_home).sort(), [join(settings.codex.homeRoot, 'a1'), join(settings.codex.homeRoot, 'a2')]);
    for (let i = 0; i < 2; i++) assert.equal(((await pool.generate({ prompt: `p${i}`, purpose: 'p' })) as any).account_id, 'a2');
    fake(settings, 'a1', { log });
    assert.deepEqual((await pool.healthcheck(false)).checks, []); // not due yet
    assert.equal(((await pool.status()) as any).accounts[0].healthy, false);
    now += 300_000;
    const again = await pool.healthcheck(false);
    assert.deepEqual(again.checks.find((c) => c.account_id === 'a1'), { account_id: 'a1', healthy: true, message: null });
    assert.equal(((await pool.generate({ prompt: 'back', purpose: 'p' })) as any).account_id, 'a1');
  } finally {
    cleanup();
  }
});

test('timeout: a hung run is killed with its children (no orphan); the account is not blamed', async () => {
  const { settings, dir, cleanup } = setup({ RUSTY_PINCH_CODEX_TIMEOUT_SECS: '1' });
  try {
    const log = join(dir, 'log.jsonl');
    fake(settings, 'a1', { mode: 'hang-tree', log });
    const pool = openCodexPool(settings);
    await assert.rejects(pool.generate({ prompt: 'hang', purpose: 'p' }), /codex task 1 failed on account 'a1': codex cli timed out after 1s/);
    const run = logLines(log).find((e) => e.grandchild_pid);
    assert.ok(run, 'the fake started a grandchild');
    assert.ok(await processGone(run.grandchild_pid), 'grandchild was killed');
    const st = (await pool.status()) as any;
    assert.equal(st.accounts[0].healthy, true, 'a timeout says nothing about the account');
    assert.equal(st.accounts[0].last_error_kind, 'timeout');
    assert.equal(st.accounts[0].used_requests, 0, 'a failed run does not consume quota');
  } finally {
    cleanup();
  }
});

test('a queued chat task that keeps failing is retried a bounded number of times, then reported and dropped', async () => {
  const { settings, cleanup } = setup();
  try {
    fake(settings, 'a1', { mode: 'not-logged-in' });
    const done: Array<[DoneTask, TaskResult]> = [];
    const pool = openCodexPool(settings, { onTaskDone: (t, r) => void done.push([t, r]) });
    const q = await pool.generate({ prompt: 'doomed', purpose: 'provider_turn:telegram:1', sessionId: 'telegram:1', requestId: 'req-1', origin: { channel: 'telegram', chatId: '1' } });
    assert.deepEqual(q, { status: 'queued', task_id: 1, queue_depth: 1, reason: 'no_healthy_accounts' });
    fake(settings, 'a1', { mode: 'fail-exec' }); // logged in, but every run fails
    const messages: string[] = [];
    for (let i = 0; i < 3; i++) {
      await pool.healthcheck(true);
      const r = (await pool.drainOne()) as any;
      assert.equal(r.status, 'error');
      messages.push(r.message);
    }
    assert.match(messages[0]!, /will be retried/);
    assert.match(messages[2]!, /dropped after 3 attempts/);
    assert.equal(((await pool.status()) as any).queue_depth, 0);
    assert.equal(done.length, 1);
    assert.equal(done[0]![0].sessionId, 'telegram:1');
    assert.equal(done[0]![0].chatId, '1');
    assert.equal(done[0]![0].requestId, 'req-1');
    assert.equal(done[0]![1].status, 'failed');
    assert.doesNotMatch(done[0]![1].text, /model refused|exited/, 'the chat gets a friendly text');
    await pool.healthcheck(true);
    assert.deepEqual(await pool.drainOne(), { status: 'noop', message: 'queue is empty or throttled by rate-limit guard' });
  } finally {
    cleanup();
  }
});

test('a rate-limit answer cools the account for one window (not broken) and the task fails over to the next account', async () => {
  const { settings, cleanup } = setup({ RUSTY_PINCH_CODEX_ACCOUNTS: 'a1||10;a2||10', RUSTY_PINCH_CODEX_RATE_WINDOW_SECS: '600' });
  try {
    let now = 9_000_000;
    fake(settings, 'a1', { mode: 'rate-limit' });
    const pool = openCodexPool(settings, { clock: () => now });
    const moved = (await pool.generate({ prompt: 'x', purpose: 'p' })) as any;
    assert.equal(moved.status, 'executed');
    assert.equal(moved.account_id, 'a2', 'failed over to the next healthy account');
    let a1 = ((await pool.status()) as any).accounts[0];
    assert.equal(a1.healthy, true);
    assert.equal(a1.used_requests, 10);
    assert.equal(a1.remaining_percent, 0);
    assert.match(a1.last_error, /429/);
    assert.equal(((await pool.generate({ prompt: 'y', purpose: 'p' })) as any).account_id, 'a2');
    // A passing health check does not put it back to work early.
    fake(settings, 'a1', {});
    await pool.healthcheck(true);
    assert.equal(((await pool.status()) as any).accounts[0].used_requests, 10);
    now += 600_000;
    a1 = ((await pool.status()) as any).accounts[0];
    assert.equal(a1.used_requests, 0);
    assert.equal(((await pool.generate({ prompt: 'z', purpose: 'p' })) as any).account_id, 'a1');
  } finally {
    cleanup();
  }
});

test('queue full: the original error; ids are consumed even when refused', async () => {
  const { settings, cleanup } = setup({ RUSTY_PINCH_CODEX_QUEUE_CAPACITY: '1' });
  try {
    fake(settings, 'a1', { mode: 'not-logged-in' });
    const pool = openCodexPool(settings);
    assert.equal((await pool.generate({ prompt: 'a', purpose: 'p' })).status, 'queued');
    await assert.rejects(pool.generate({ prompt: 'b', purpose: 'p' }), /codex queue is full \(1\/1\)/);
    await assert.rejects(pool.generate({ prompt: '  ', purpose: 'p' }), /codex prompt is empty/);
    fake(settings, 'a1', {});
    await pool.healthcheck(true);
    assert.equal(((await pool.drainOne()) as any).task_id, 1);
    assert.equal(((await pool.generate({ prompt: 'c', purpose: 'p' })) as any).task_id, 3);
  } finally {
    cleanup();
  }
});

test('disabled: every entry point says codex integration is disabled', async () => {
  const { settings, cleanup } = setup({ RUSTY_PINCH_CODEX_ENABLED: 'false' });
  try {
    const pool = openCodexPool(settings);
    for (const call of [() => pool.status(), () => pool.healthcheck(true), () => pool.drainOne(), () => pool.generate({ prompt: 'x', purpose: 'p' })]) {
      await assert.rejects(call(), /codex integration is disabled/);
    }
  } finally {
    cleanup();
  }
});

test('corrupt state file: moved aside with a warning and rebuilt', async () => {
  const { settings, cleanup } = setup();
  const cap = captureEvents();
  try {
    const pool = openCodexPool(settings);
    mkdirSync(join(settings.workspace, 'codex'), { recursive: true });
    writeFileSync(pool.statePath, '{"queue": [ this is not json');
    const st = (await pool.status()) as any;
    assert.equal(st.queue_depth, 0);
    await pool.healthcheck(false); // the next writer rebuilds it (status only reads)
    assert.ok(cap.events.some((e) => e.event === 'warning' && String(e.message).includes('codex state')));
    assert.ok(readdirSync(join(settings.workspace, 'codex')).some((f) => f.startsWith('state.json.corrupt-')));
    assert.ok(JSON.parse(readFileSync(pool.statePath, 'utf8')).accounts.a1, 'rebuilt');
    // A valid JSON file of the wrong shape is treated the same way.
    writeFileSync(pool.statePath, '[1,2,3]');
    assert.equal(((await pool.status()) as any).queue_depth, 0);
  } finally {
    cap.restore();
    cleanup();
  }
});

test('garbage: a partly corrupt state keeps the queued prompts that validate; the file is backed up', async () => {
  const { settings, cleanup } = setup();
  const cap = captureEvents();
  try {
    const pool = openCodexPool(settings);
    mkdirSync(join(settings.workspace, 'codex'), { recursive: true });
    const original = JSON.stringify({ version: 1, next_task_id: 'x', accounts: { a1: { healthy: 'yes', uses: ['1e3'] } }, queue: [{ id: 1, prompt: 'keep me' }, { id: 2, prompt: 42 }, { id: 3, prompt: 'me too', attempts: -1 }, { id: 4, prompt: 'and me' }], running: 'no' });
    writeFileSync(pool.statePath, original);
    const st = (await pool.status()) as any;
    assert.equal(st.queue_depth, 2);
    const saved = JSON.parse(readFileSync(pool.statePath, 'utf8'));
    assert.deepEqual(saved.queue.map((t: any) => t.prompt), ['keep me', 'and me']);
    const backup = readdirSync(join(settings.workspace, 'codex')).find((f) => f.startsWith('state.json.corrupt-'));
    assert.ok(backup, 'the original is kept aside');
    assert.equal(readFileSync(join(settings.workspace, 'codex', backup), 'utf8'), original);
    const warning = cap.events.find((e) => e.event === 'warning' && String(e.message).includes('codex state'));
    assert.ok(warning && Array.isArray(warning.problems) && (warning.problems as string[]).some((p) => p.includes('queue[1].prompt')));
  } finally {
    cap.restore();
    cleanup();
  }
});

test('a task left running by a dead process goes back to the head of the queue', async () => {
  const { settings, cleanup } = setup();
  try {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const pool = openCodexPool(settings);
    mkdirSync(join(settings.workspace, 'codex'), { recursive: true });
    const task = { id: 5, purpose: 'general', prompt: 'orphan', queued_at: '', queued_at_ms: 0, attempts: 0, last_error: null, request_id: null, session_id: null, channel: null, chat_id: null };
    writeFileSync(pool.statePath, JSON.stringify({ version: 1, next_task_id: 6, accounts: {}, queue: [], running: [{ task, account_id: 'a1', owner_pid: Number(dead), started_at_ms: Date.now(), reserved_at_ms: Date.now(), kind: 'queued' }] }));
    assert.equal(((await pool.status()) as any).queue_depth, 1);
    const d = (await pool.drainOne()) as any;
    assert.equal(d.task_id, 5);
    assert.equal(d.output, 'fake codex saw: orphan');
  } finally {
    cleanup();
  }
});

test('CLI not installed: submit fails at once with the install hint instead of queuing forever', async () => {
  const { settings, dir, cleanup } = setup();
  try {
    const missing = settingsFromEnv({ ...settings.env, RUSTY_PINCH_CODEX_CLI_BIN: join(dir, 'no-codex-here') }, dir);
    const pool = openCodexPool(missing);
    await assert.rejects(pool.generate({ prompt: 'x', purpose: 'p' }), (err: any) => {
      assert.match(err.message, /failed to execute codex cli command '.*no-codex-here': not found/);
      assert.match(err.hint, /npm install -g @openai\/codex/);
      return true;
    });
    assert.equal(((await pool.status()) as any).queue_depth, 0);
    // Logged out (the CLI is there): that is worth waiting for, so the task queues.
    fake(settings, 'a1', { mode: 'not-logged-in' });
    assert.equal((await openCodexPool(settings).generate({ prompt: 'x', purpose: 'p' })).status, 'queued');
  } finally {
    cleanup();
  }
});
