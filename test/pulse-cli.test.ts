// `pulse …` commands spawned as a user would run them: JSON shapes, garbage flags and JSON,
// end-to-end ticks with a loopback server going down and up, approve/reject, and reading the
// original's state file (and a corrupt one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, events, runCli, tempDir } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function env(dir: string, extra: Record<string, string> = {}) {
  return cleanEnv(dir, { RUSTY_PINCH_CODEX_ENABLED: 'false', RUSTY_PINCH_PULSE_HEALTHCHECK_ALLOW_PRIVATE: 'true', ...extra });
}

async function json(args: string[], e: Record<string, string>): Promise<any> {
  const r = await runCli(['pulse', ...args], { env: e });
  assert.equal(r.code, 0, `pulse ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

test('job commands: shapes, --enabled false, lifecycle, garbage flags', async () => {
  const t = tempDir();
  try {
    const e = env(t.dir);
    const add = await json(['job', 'add-http-healthcheck', '--id', 'api-health', '--interval-secs', '60', '--url', ' http://127.0.0.1:9/h ', '--timeout-secs', '5'], e);
    assert.deepEqual(add, { status: 'ok', job_id: 'api-health', action: 'http_healthcheck', interval_secs: 60, url: 'http://127.0.0.1:9/h', expected_status: 200, timeout_secs: 5, enabled: true });
    const off = await json(['job', 'add-http-healthcheck', '--id', 'off', '--interval-secs', '5', '--url', 'http://127.0.0.1:9/', '--enabled', 'false'], e);
    assert.equal(off.enabled, false);
    const off2 = await json(['job', 'add-http-healthcheck', '--id', 'off2', '--interval-secs', '5', '--url', 'http://127.0.0.1:9/', '--disabled'], e);
    assert.equal(off2.enabled, false);
    const list = await json(['job', 'list'], e);
    assert.deepEqual(list.jobs.map((j: any) => [j.id, j.enabled]), [['api-health', true], ['off', false], ['off2', false], ['runtime-heartbeat', true]]);
    assert.deepEqual(Object.keys(list.jobs[0]), ['id', 'interval_secs', 'action', 'enabled', 'runs', 'next_due_at', 'last_run_at', 'last_status', 'last_message', 'history']);
    const dis = await json(['job', 'disable', '--id', 'api-health'], e);
    assert.equal(dis.status, 'ok');
    assert.equal(dis.action, 'disabled');
    assert.equal(dis.job.enabled, false);
    assert.equal((await json(['job', 'enable', '--id', 'api-health'], e)).job.enabled, true);
    const rm = await json(['job', 'remove', '--id', 'api-health'], e);
    assert.equal(rm.action, 'removed');
    assert.equal(rm.job.id, 'api-health');

    const cases: Array<[string[], number, RegExp]> = [
      [['job', 'add-http-healthcheck', '--id', 'x', '--interval-secs', '0', '--url', 'http://127.0.0.1/'], 2, /must be >= 1/],
      [['job', 'add-http-healthcheck', '--id', 'x', '--interval-secs', 'ten', '--url', 'http://127.0.0.1/'], 2, /invalid positive integer/],
      [['job', 'add-http-healthcheck', '--id', 'x', '--interval-secs', '5', '--url', 'http://127.0.0.1/', '--expected-status', '700'], 2, /100\.\.=599/],
      [['job', 'add-http-healthcheck', '--id', 'x', '--interval-secs', '5', '--url', 'http://127.0.0.1/', '--enabled', 'maybe'], 2, /expected true or false/],
      [['job', 'add-http-healthcheck', '--id', 'Bad Id', '--interval-secs', '5', '--url', 'http://127.0.0.1/'], 1, /invalid pulse job id 'Bad Id'/],
      [['job', 'add-http-healthcheck', '--id', 'x', '--interval-secs', '5', '--url', 'file:///etc/passwd'], 1, /must start with http/],
      [['job', 'add-http-healthcheck', '--id', 'runtime-heartbeat', '--interval-secs', '5', '--url', 'http://127.0.0.1/'], 1, /reserved/],
      [['job', 'remove', '--id', 'nope'], 1, /pulse job 'nope' not found/],
      [['job', 'enable', '--id', '  '], 1, /pulse job id is empty/],
      [['goal', 'achieve', '--id', 'nope'], 1, /goal 'nope' was not found/],
      [['goal', 'add', '--id', ' ', '--description', 'd'], 1, /goal id is empty/],
      [['approve', '--token', 'pa-0000'], 1, /was not found/],
    ];
    for (const [args, code, re] of cases) {
      const r = await runCli(['pulse', ...args], { env: e });
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
      assert.equal(r.stdout, '');
    }
    const blocked = await runCli(['pulse', 'job', 'add-http-healthcheck', '--id', 'x', '--interval-secs', '5', '--url', 'http://localhost:8080'], { env: cleanEnv(t.dir, { RUSTY_PINCH_CODEX_ENABLED: 'false' }) });
    assert.equal(blocked.code, 1);
    assert.match(blocked.stderr, /blocked by sandbox policy/);
  } finally {
    t.cleanup();
  }
});

test('ooda: report shape, garbage JSON exits 2 and writes nothing, goals', async () => {
  const t = tempDir();
  try {
    const e = env(t.dir);
    const bad = await runCli(['pulse', 'ooda', '--action', 'observe', '--observations', '{not json'], { env: e });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Error: failed parsing observations json/);
    assert.equal(existsSync(join(t.dir, 'workspace', 'pulse', 'state.json')), false, 'nothing written');
    const notArray = await runCli(['pulse', 'ooda', '--action', 'observe', '--observations', '{"source":"a"}'], { env: e });
    assert.equal(notArray.code, 2);

    assert.deepEqual(await json(['goal', 'add', '--id', 'goal-1', '--description', ' keep api up '], e), { status: 'ok', goal_id: 'goal-1' });
    const r = await json(['ooda', '--action', 'observe only', '--observations', '[{"source":"api","key":"status","value":"ok"}]', '--goal', 'goal-1'], e);
    assert.deepEqual(Object.keys(r).slice(0, 3), ['timestamp', 'observations', 'orientation']);
    assert.equal(r.orientation, '1 observations, no alerts');
    assert.equal(r.orientation_source, 'rule');
    assert.equal(r.decision, 'continue');
    assert.equal(r.risk, 'low');
    assert.equal(r.approval_status, 'approved');
    assert.equal(r.approval_token, null);
    const goals = await json(['goal', 'list'], e);
    assert.deepEqual(goals.goals.map((g: any) => [g.id, g.description, g.achieved, g.notes]), [['goal-1', 'keep api up', true, 'marked achieved by OODA cycle']]);
    await json(['goal', 'add', '--id', 'g2', '--description', 'by hand'], e);
    const ach = await json(['goal', 'achieve', '--id', 'g2'], e);
    assert.equal(ach.goal.achieved, true);
    const stats = JSON.parse((await runCli(['stats'], { env: e })).stdout);
    assert.equal(stats.telemetry.pulse.goals_total, 2);
    assert.equal(stats.telemetry.pulse.goals_achieved, 2);
    assert.ok(stats.telemetry.pulse.jobs_total >= 1);
  } finally {
    t.cleanup();
  }
});

test('tick end to end: failing and recovering health check notify once each; approve/reject perform and record', async () => {
  const t = tempDir();
  let status = 200;
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(status).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const e = env(t.dir, { RUSTY_PINCH_PULSE_NOTIFY: 'telegram:42' });
    await json(['job', 'remove', '--id', 'runtime-heartbeat'], e);
    await json(['job', 'add-http-healthcheck', '--id', 'api', '--interval-secs', '1', '--url', `${base}/health`, '--timeout-secs', '2'], e);
    const notifications: Array<Record<string, unknown>> = [];
    const tick = async () => {
      await sleep(1050);
      const r = await runCli(['pulse', 'tick'], { env: e });
      assert.equal(r.code, 0, r.stderr);
      notifications.push(...events(r.stderr).filter((x) => x.event === 'pulse_notify'));
      return JSON.parse(r.stdout);
    };
    const first = await tick();
    assert.deepEqual(first, { executed_jobs: 1, results: [{ job_id: 'api', status: 'ok', message: `http healthcheck ok: url=${base}/health, status=200` }] });
    status = 500;
    assert.equal((await tick()).results[0].status, 'error');
    await tick();
    assert.equal(notifications.length, 1);
    assert.match(String(notifications[0]?.text), /job 'api' is failing: .*expected 200, got 500/);
    assert.equal(notifications[0]?.target, 'telegram:42');
    assert.equal(notifications[0]?.status, 'queued', 'no channel in a CLI process: handed to the outbox for serve');
    status = 200;
    await tick();
    await tick();
    assert.equal(notifications.length, 2);
    assert.match(String(notifications[1]?.text), /job 'api' recovered/);
    // The one road out: both wait in the durable outbox for serve's drainer.
    const outbox = readFileSync(join(t.dir, 'workspace', 'outbox', 'outbox.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(outbox.map((r) => [r.kind, r.channel, r.chat_id]), [['notification', 'telegram', '42'], ['notification', 'telegram', '42']]);
    const st = await json(['status'], e);
    assert.equal(st.jobs[0].history.length, 5);
    assert.deepEqual(Object.keys(st.jobs[0].history[0]), ['started_at', 'due_at', 'status', 'latency_ms', 'message']);

    hits.length = 0;
    const o = await json(['ooda', '--action', `http POST ${base}/restart`, '--observations', '[{"source":"api","key":"health","value":"down","severity":"error"}]'], e);
    assert.equal(o.approval_status, 'pending');
    assert.equal(hits.length, 0);
    const ok = await json(['approve', '--token', o.approval_token], e);
    assert.equal(ok.status, 'approved');
    assert.deepEqual(Object.keys(ok.approval).slice(0, 6), ['token', 'action', 'risk', 'reason', 'created_at', 'status']);
    assert.equal(ok.approval.outcome.status, 'ok');
    assert.deepEqual(hits, ['POST /restart']);
    const o2 = await json(['ooda', '--action', 'email the team'], e);
    const no = await json(['reject', '--token', o2.approval_token, '--reason', 'too late'], e);
    assert.equal(no.status, 'rejected');
    assert.equal(no.approval.reason, 'too late');
    const final = await json(['status'], e);
    assert.equal(final.pending_approvals.length, 0);
    assert.deepEqual(final.approval_history.map((a: any) => a.status), ['approved', 'rejected']);
  } finally {
    server.closeAllConnections();
    server.close();
    t.cleanup();
  }
});

test("reads the original's state file; a corrupt file is moved aside with a warning", async () => {
  const t = tempDir();
  try {
    const e = env(t.dir);
    const dir = join(t.dir, 'workspace', 'pulse');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'state.json'),
      JSON.stringify({
        updated_at: '2026-02-20T03:04:05.123456789+00:00',
        jobs: [{ id: 'api-health', interval_secs: 60, action: { http_health_check: { url: 'https://example.com/health', expected_status: 200, timeout_secs: 10 } }, enabled: false, runs: 3, next_due_at: '2026-02-20T03:05:05.123456789+00:00', last_run_at: null, last_status: 'ok', last_message: 'fine' }],
        pending_approvals: [{ token: 'pa-19c1f2a3b4c-1', action: 'deploy production', risk: 'high', reason: 'human approval required for risky action', created_at: new Date().toISOString(), status: 'pending' }],
        goals: [{ id: 'goal-1', description: 'ship', achieved: false, updated_at: '2026-02-20T03:04:05+00:00', notes: null }],
      }),
    );
    const st = await json(['status'], e);
    assert.deepEqual(st.jobs.map((j: any) => [j.id, j.enabled, j.runs]), [['api-health', false, 3], ['runtime-heartbeat', true, 0]]);
    assert.equal(st.pending_approvals[0].token, 'pa-19c1f2a3b4c-1');
    assert.equal(st.goals[0].id, 'goal-1');
    const rej = await json(['reject', '--token', 'pa-19c1f2a3b4c-1'], e);
    assert.equal(rej.approval.reason, 'rejected by operator');

    writeFileSync(join(dir, 'state.json'), '{"jobs": [tru');
    const r = await runCli(['pulse', 'status'], { env: e });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(events(r.stderr).some((x) => x.event === 'warning' && /pulse state/.test(String(x.message))));
    assert.ok(readdirSync(dir).some((f) => f.startsWith('state.json.corrupt-')));
    assert.equal(JSON.parse(r.stdout).goals.length, 0);
    assert.ok(readFileSync(join(dir, readdirSync(dir).find((f) => f.startsWith('state.json.corrupt-'))!), 'utf8').includes('[tru'));
  } finally {
    t.cleanup();
  }
});

test('garbage: wrong types in the state file are never coerced and overwritten: the file is backed up, valid entries kept', async () => {
  const t = tempDir();
  try {
    const e = env(t.dir);
    const dir = join(t.dir, 'workspace', 'pulse');
    mkdirSync(dir, { recursive: true });
    const original = JSON.stringify({
      jobs: [
        { id: 'api-health', interval_secs: 60, action: { http_health_check: { url: 'https://example.com/health', expected_status: 200, timeout_secs: 10 } }, enabled: 'no', runs: '3', next_due_at: '2026-02-20T03:05:05+00:00' },
        { id: 'broken', interval_secs: 'often', action: 'codex_health_check' },
      ],
      goals: [{ id: 'goal-1', description: 'ship', achieved: 'maybe' }, { id: 42 }],
      pending_approvals: 'none',
      last_tick: { executed: 'x', errors: 0 },
    });
    writeFileSync(join(dir, 'state.json'), original);
    const r = await runCli(['pulse', 'status'], { env: e });
    assert.equal(r.code, 0, r.stderr);
    const st = JSON.parse(r.stdout);
    const job = st.jobs.find((j: any) => j.id === 'api-health');
    assert.deepEqual([job.enabled, job.runs], [true, 0], 'bad fields reset to defaults, not coerced');
    assert.ok(!st.jobs.some((j: any) => j.id === 'broken'));
    assert.deepEqual(st.goals.map((g: any) => [g.id, g.achieved]), [['goal-1', false]]);
    const warning = events(r.stderr).find((x) => x.event === 'warning' && /pulse state/.test(String(x.message)));
    assert.ok(warning, r.stderr);
    assert.ok(((warning.problems ?? []) as string[]).some((p) => p.includes("jobs[0].enabled")), r.stderr);
    const backups = readdirSync(dir).filter((f) => f.startsWith('state.json.corrupt-'));
    assert.equal(backups.length, 1);
    assert.equal(readFileSync(join(dir, backups[0]!), 'utf8'), original, 'the original bytes are kept');
    // The rebuilt file is clean: reading it again warns about nothing.
    const again = await runCli(['pulse', 'status'], { env: e });
    assert.ok(!events(again.stderr).some((x) => x.event === 'warning'), again.stderr);
    assert.equal(readdirSync(dir).filter((f) => f.startsWith('state.json.corrupt-')).length, 1);
  } finally {
    t.cleanup();
  }
});
