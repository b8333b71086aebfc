// Pulse service and scheduler on a temp workspace with a manual clock: timing, overdue after a
// restart, failure/recovery notifications once each, approvals (expiry, approve performs,
// reject records), the tool approval gate, and restart restoring everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';
import { ManualClock, PulseScheduler, openPulse, runOodaCycle, runTick, type PulseCallbacks, type PulseService } from '../src/pulse/index.js';
import type { PulseSettings } from '../src/config/index.js';

const settings = (over: Partial<PulseSettings> = {}): PulseSettings => ({
  autoAllowActions: [],
  approvalTtlSecs: 60,
  notify: ['telegram:42'],
  tickMs: 30_000,
  allowPrivateHealthchecks: true,
  assessTimeoutSecs: 1,
  ...over,
});

interface Loopback {
  url: string;
  status: number;
  hits: Array<{ method: string; url: string; body: string }>;
  close(): Promise<void>;
}

async function loopback(): Promise<Loopback> {
  const lb = { status: 200, hits: [] as Loopback['hits'] } as Loopback;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      lb.hits.push({ method: req.method ?? '', url: req.url ?? '', body });
      res.writeHead(lb.status).end('done');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  lb.url = `http://127.0.0.1:${addr.port}`;
  lb.close = () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); });
  return lb;
}

function setup(clock: ManualClock, callbacks: PulseCallbacks = {}, over: Partial<PulseSettings> = {}) {
  const t = tempDir('rp-pulse-');
  const make = (cb: PulseCallbacks = callbacks): PulseService => openPulse({ workspace: join(t.dir, 'ws'), settings: settings(over), codexEnabled: false, clock, callbacks: cb });
  return { ...t, make, statePath: join(t.dir, 'ws', 'pulse', 'state.json') };
}

test('scheduler: one timer to the next due time; a job fires at its interval, not before', async () => {
  const clock = new ManualClock();
  const env = setup(clock);
  const svc = env.make();
  try {
    await svc.setJobEnabled('runtime-heartbeat', false);
    await svc.addHttpHealthcheck({ id: 'hc', intervalSecs: 5, url: 'http://127.0.0.1:9/', expectedStatus: 200, timeoutSecs: 1, enabled: true });
    const starts: number[] = [];
    const timed = openPulse({ workspace: join(env.dir, 'ws'), settings: settings(), codexEnabled: false, clock, onRunStart: (_id, due, start) => starts.push(start - due) });
    const sched = new PulseScheduler(timed, { watchState: false });
    sched.start();
    clock.advance(0);
    await sched.idle();
    assert.equal(starts.length, 0, 'nothing is due at start');
    assert.deepEqual(clock.pending(), [clock.now() + 5000], 'exactly one timer, armed for the due time');
    clock.advance(4999);
    await sched.idle();
    assert.equal(starts.length, 0);
    clock.advance(1);
    await sched.idle();
    assert.equal(starts.length, 1);
    assert.equal(starts[0], 0, 'started exactly on time');
    clock.advance(5000);
    await sched.idle();
    assert.equal(starts.length, 2);
    await sched.stop();
    const job = svc.view().jobs.find((j) => j.id === 'hc');
    assert.equal(job?.runs, 2);
    assert.equal(job?.history.length, 2);
    assert.equal(job?.last_status, 'error');
    assert.equal(typeof job?.history[0]?.latency_ms, 'number');
  } finally {
    env.cleanup();
  }
});

test('overdue jobs after a restart run once, not in a burst', async () => {
  const clock = new ManualClock();
  const env = setup(clock);
  try {
    const a = env.make();
    await a.addHttpHealthcheck({ id: 'hc', intervalSecs: 10, url: 'http://127.0.0.1:9/', expectedStatus: 200, timeoutSecs: 1, enabled: true });
    clock.advance(3_600_000); // down for an hour: 360 missed intervals
    const b = env.make();
    const out = await runTick(b);
    assert.deepEqual(out.results.map((r) => r.job_id).sort(), ['hc', 'runtime-heartbeat']);
    const again = await runTick(b);
    assert.equal(again.executed_jobs, 0, 'no catch-up burst');
    assert.equal(again.nextDueMs, clock.now() + 10_000);
    assert.equal(b.view().jobs.find((j) => j.id === 'hc')?.runs, 1);
  } finally {
    env.cleanup();
  }
});

test('failure → notification → recovery → notification, once each', async () => {
  const clock = new ManualClock();
  const sent: Array<{ target: string; text: string }> = [];
  const env = setup(clock, { notify: async (target, text) => void sent.push({ target, text }) });
  const lb = await loopback();
  try {
    const svc = env.make();
    await svc.removeJob('runtime-heartbeat');
    await svc.addHttpHealthcheck({ id: 'api', intervalSecs: 5, url: `${lb.url}/health`, expectedStatus: 200, timeoutSecs: 2, enabled: true });
    const sched = new PulseScheduler(svc, { watchState: false });
    sched.start();
    clock.advance(0);
    await sched.idle();
    const step = async (): Promise<void> => {
      clock.advance(5000);
      await sched.idle();
    };
    await step(); // ok
    assert.equal(sent.length, 0);
    lb.status = 503;
    await step(); // starts failing
    await step(); // still failing
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.target, 'telegram:42');
    assert.match(sent[0]?.text ?? '', /job 'api' is failing: http healthcheck failed for .*expected 200, got 503/);
    lb.status = 200;
    await step(); // recovers
    await step(); // still fine
    assert.equal(sent.length, 2);
    assert.match(sent[1]?.text ?? '', /job 'api' recovered/);
    await lb.close();
    await step(); // server gone: connection refused
    assert.equal(sent.length, 3);
    assert.match(sent[2]?.text ?? '', /ECONNREFUSED/);
    await sched.stop();
    const state = JSON.parse(readFileSync(env.statePath, 'utf8'));
    assert.equal(state.notifications.filter((n: { status: string }) => n.status === 'sent').length, 3);
    assert.equal(state.jobs.find((j: { id: string }) => j.id === 'api').history.length, 6);
  } finally {
    await lb.close().catch(() => undefined);
    env.cleanup();
  }
});

test('approvals expire and an expired token cannot be approved', async () => {
  const clock = new ManualClock();
  const env = setup(clock, {}, { approvalTtlSecs: 30 });
  try {
    const svc = env.make();
    const r = await runOodaCycle(svc, { action: 'deploy production', observations: [] });
    assert.equal(r.approval_status, 'pending');
    assert.match(r.approval_token ?? '', /^pa-[0-9a-f]{32}$/);
    clock.advance(30_001);
    await assert.rejects(svc.approve(r.approval_token ?? ''), /has expired/);
    const s = svc.view();
    assert.equal(s.pending_approvals.length, 0);
    assert.equal(s.approval_history[0]?.status, 'expired');
    await assert.rejects(svc.approve('pa-nope'), /was not found/);
  } finally {
    env.cleanup();
  }
});

test('approve performs the pending HTTP call and records the outcome; reject records the refusal', async () => {
  const clock = new ManualClock();
  const env = setup(clock);
  const lb = await loopback();
  try {
    const svc = env.make();
    await svc.addGoal('g1', 'restart done');
    const r = await runOodaCycle(svc, { action: `http POST ${lb.url}/restart {"svc":"web"}`, observations: [{ source: 's', key: 'k', value: 'v', severity: 'error' }], goal: 'g1' });
    assert.equal(r.risk, 'high');
    assert.equal(r.approval_status, 'pending');
    assert.equal(lb.hits.length, 0, 'nothing runs before approval');
    const ok = await svc.approve(r.approval_token ?? '');
    assert.equal(ok.status, 'approved');
    assert.deepEqual(lb.hits, [{ method: 'POST', url: '/restart', body: '{"svc":"web"}' }]);
    assert.equal((ok.approval.outcome as { status: string }).status, 'ok');
    assert.equal(svc.view().goals[0]?.achieved, true);
    await assert.rejects(svc.approve(r.approval_token ?? ''), /already approved/);

    const r2 = await runOodaCycle(svc, { action: `http DELETE ${lb.url}/all`, observations: [] });
    assert.equal(r2.risk, 'critical');
    const no = await svc.reject(r2.approval_token ?? '', 'not today');
    assert.equal(no.status, 'rejected');
    assert.equal(no.approval.reason, 'not today');
    assert.equal(lb.hits.length, 1, 'a rejected action is not performed');
    const hist = svc.view().approval_history.map((a) => a.status);
    assert.deepEqual(hist, ['approved', 'rejected']);
  } finally {
    await lb.close();
    env.cleanup();
  }
});

test('tool approval gate: pending with token and command; approve runs the tool callback', async () => {
  const clock = new ManualClock();
  const ran: string[] = [];
  const env = setup(clock, { runTool: async (c) => (ran.push(`${c.name}:${c.args}:${c.session_id}`), 'tool output') });
  try {
    const svc = env.make();
    const v = await svc.requestToolApproval({ name: 'shell', args: 'ls', sessionId: 's1', requestId: 'rq' });
    assert.equal(v.approved, false);
    const token = /token (pa-[0-9a-f]+)/.exec(v.message)?.[1] ?? '';
    assert.match(v.message, /rusty-pinch pulse approve --token pa-/);
    const out = await svc.approve(token);
    assert.deepEqual(ran, ['shell:ls:s1']);
    assert.equal((out.approval.outcome as { message: string }).message, 'tool output');
    const star = env.make();
    // `*` allows a risky tool, but not one whose call names a critical word.
    const allowAll = openPulse({ workspace: join(env.dir, 'ws'), settings: settings({ autoAllowActions: ['*'] }), codexEnabled: false, clock });
    assert.equal((await allowAll.requestToolApproval({ name: 'shell', args: 'ls', sessionId: 's', requestId: 'r' })).approved, true);
    assert.equal((await allowAll.requestToolApproval({ name: 'shell', args: 'delete everything', sessionId: 's', requestId: 'r' })).approved, false);
    assert.equal(star.view().pending_approvals.length, 1);
  } finally {
    env.cleanup();
  }
});

test('restart restores jobs, approvals, goals and history; OODA marks a goal achieved', async () => {
  const clock = new ManualClock();
  const env = setup(clock);
  try {
    const a = env.make();
    await a.addHttpHealthcheck({ id: 'api', intervalSecs: 60, url: 'http://127.0.0.1:9/', expectedStatus: 204, timeoutSecs: 3, enabled: true });
    await a.setJobEnabled('api', false);
    await a.addGoal('g1', 'observe');
    await a.addGoal('g2', 'ship');
    const safe = await runOodaCycle(a, { action: 'observe only', observations: [{ source: 'x', key: 'y', value: 'z', severity: 'info' }], goal: 'g1' });
    assert.equal(safe.approval_status, 'approved');
    const risky = await runOodaCycle(a, { action: 'deploy canary', observations: [{ source: 'x', key: 'y', value: 'z', severity: 'warn' }], goal: 'g2' });
    await a.removeJob('runtime-heartbeat');
    const b = env.make();
    const s = b.view();
    assert.deepEqual(s.jobs.map((j) => [j.id, j.enabled]), [['api', false]], 'removed default stays removed');
    assert.deepEqual(s.jobs[0]?.action, { http_health_check: { url: 'http://127.0.0.1:9/', expected_status: 204, timeout_secs: 3 } });
    assert.deepEqual(s.pending_approvals.map((p) => p.token), [risky.approval_token]);
    assert.deepEqual(s.goals.map((g) => [g.id, g.achieved]), [['g1', true], ['g2', false]]);
    assert.equal(s.goals[0]?.notes, 'marked achieved by OODA cycle');
    await b.setJobEnabled('runtime-heartbeat', true);
    assert.ok(b.view().jobs.some((j) => j.id === 'runtime-heartbeat'), 'enabling a removed default brings it back');
  } finally {
    env.cleanup();
  }
});

test('OODA orientation uses the model when it answers in time, else the rule', async () => {
  const clock = new ManualClock();
  const env = setup(clock, { assess: async () => 'disk is filling up' });
  try {
    const obs = [{ source: 'disk', key: 'free', value: '2%', severity: 'warn' }];
    const m = await runOodaCycle(env.make(), { action: 'observe', observations: obs });
    assert.equal(m.orientation_source, 'model');
    assert.match(m.orientation, /model: disk is filling up/);
    const slow = env.make({ assess: () => new Promise((r) => setTimeout(() => r('late'), 5000).unref()) });
    const s = await runOodaCycle(slow, { action: 'observe', observations: obs });
    assert.equal(s.orientation_source, 'rule');
    assert.equal(s.orientation, '1 observations, 1 require attention');
    assert.match(s.orientation_note ?? '', /timed out/);
    const broken = await runOodaCycle(env.make({ assess: async () => { throw new Error('no key'); } }), { action: 'observe', observations: [] });
    assert.equal(broken.orientation_source, 'rule');
    assert.equal(broken.orientation, 'no observations provided');
  } finally {
    env.cleanup();
  }
});
