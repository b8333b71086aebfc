// Scheduled skill generation jobs (`{ skill_generation: { name, goal, replace } }`) in-process
// against a loopback OpenAI-compatible fake: a run ends in a pending promotion approval, runs
// while it waits (or while the skill exists, is queued or is being generated) are no-ops,
// approving promotes, the daily budget turns a run into an error, and a process without
// Evolution says so instead of pretending.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../src/app/index.js';
import { settingsFromEnv } from '../src/config/index.js';
import { setEventSink } from '../src/observe/index.js';
import { ManualClock, PulseScheduler, openPulse, runTick, type PulseService, type TickResult } from '../src/pulse/index.js';
import { startFakeOpenAI, status, text } from './fakes/openai-server.js';
import { cleanEnv, tempDir } from './helpers.js';

const fake = await startFakeOpenAI();
after(() => fake.close());

const GREET = text('```js\n// Greets.\nfunction main(a) { return "hi " + (a || "there") }\n```');

function envFor(dir: string, extra: Record<string, string> = {}) {
  return cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'openai', RUSTY_PINCH_API_BASE: fake.base, RUSTY_PINCH_OPENAI_API_KEY: 'sk-test-pulse-job-123456', RUSTY_PINCH_CODEX_ENABLED: 'false', RUSTY_PINCH_SESSION_FSYNC: 'false', ...extra });
}

/** Makes the named jobs due now and runs one tick (with its follow-up), returning their results. */
async function tickJobs(pulse: PulseService, ...ids: string[]): Promise<TickResult[]> {
  await pulse.mutate((s) => {
    for (const j of s.jobs) if (ids.includes(j.id)) j.next_due_at = '2000-01-01T00:00:00+00:00';
  });
  const out = await runTick(pulse);
  await out.followUp;
  return out.results.filter((r) => ids.includes(r.job_id));
}

const job = (id: string, name: string, extra: Partial<{ replace: boolean; goal: string }> = {}) => ({ id, intervalSecs: 3600, name, goal: extra.goal ?? 'say hello to a name', replace: extra.replace ?? false, enabled: true });

test('a skill generation job asks once, waits for the approval, and approving promotes', async () => {
  const { dir, cleanup } = tempDir('rp-pulse-skill-');
  const prev = setEventSink(() => undefined);
  try {
    const settings = settingsFromEnv(envFor(dir), dir);
    const app = await createApp({ settings });
    const pulse = await app.pulse();
    const added = await pulse.addSkillGeneration(job('want-greet', ' greet.js '));
    assert.deepEqual(added.action, { skill_generation: { name: 'greet', goal: 'say hello to a name', replace: false } });
    const live = join(settings.workspace, 'skills', 'greet.js');

    fake.script(GREET);
    const asked = fake.requests.length;
    const [first] = await tickJobs(pulse, 'want-greet');
    assert.equal(first!.status, 'ok', first!.message);
    assert.match(first!.message, /^skill 'greet' pending_approval \(approval token pa-[0-9a-f]+\)$/);
    assert.equal(fake.requests.length, asked + 1, 'one model request');
    const pending = pulse.status().pending_approvals as Array<{ token: string; action: string; perform: { kind: string; skill?: string } }>;
    assert.deepEqual(pending.map((p) => [p.perform.kind, p.perform.skill]), [['skill_promotion', 'greet']]);
    // (The wording is Evolution's; the request names the skill, its origin and the goal.)
    assert.match(pending[0]!.action, /promote generated skill 'greet'.*pulse[\s\S]*goal: say hello to a name/);
    assert.ok(!existsSync(live), 'never live before the approval');

    const [second] = await tickJobs(pulse, 'want-greet');
    assert.equal(second!.status, 'ok');
    assert.match(second!.message, /^no-op: a generated candidate for skill 'greet' already waits for the operator's approval/);
    assert.equal(fake.requests.length, asked + 1, 'no second model request while the approval is pending');
    assert.equal((pulse.status().pending_approvals as unknown[]).length, 1, 'no second approval request');

    const done = await pulse.approve(pending[0]!.token);
    assert.equal((done.approval.outcome as { status: string }).status, 'ok');
    assert.match(readFileSync(live, 'utf8'), /function main/);

    const [third] = await tickJobs(pulse, 'want-greet');
    assert.equal(third!.status, 'ok');
    assert.match(third!.message, /^no-op: skill 'greet' already exists/);
    assert.equal(fake.requests.length, asked + 1);
    const j = pulse.view().jobs.find((x) => x.id === 'want-greet')!;
    assert.deepEqual([j.runs, j.last_status, j.history.length], [3, 'ok', 3]);
    await app.close();
  } finally {
    setEventSink(prev);
    cleanup();
  }
});

test("serve's scheduler runs the job the same way", async () => {
  const { dir, cleanup } = tempDir('rp-pulse-skill-');
  const prev = setEventSink(() => undefined);
  try {
    const settings = settingsFromEnv(envFor(dir), dir);
    const app = await createApp({ settings });
    const pulse = await app.pulse();
    await pulse.addSkillGeneration(job('want-greet', 'greet'));
    await pulse.mutate((s) => {
      for (const j of s.jobs) if (j.id === 'want-greet') j.next_due_at = '2000-01-01T00:00:00+00:00';
    });
    fake.script(GREET);
    const scheduler = new PulseScheduler(pulse, { watchState: false });
    scheduler.start();
    // Wait for the wake that starts the job (a condition, bounded), then for its recorded outcome.
    const deadline = Date.now() + 30_000;
    while (scheduler.ticks === 0) {
      assert.ok(Date.now() < deadline, 'the scheduler never started the job');
      await new Promise((r) => setTimeout(r, 10));
    }
    await scheduler.stop();
    const j = pulse.view().jobs.find((x) => x.id === 'want-greet')!;
    assert.equal(j.last_status, 'ok', j.last_message ?? '');
    assert.match(j.last_message ?? '', /^skill 'greet' pending_approval/);
    assert.deepEqual((pulse.status().pending_approvals as Array<{ perform: { kind: string } }>).map((a) => a.perform.kind), ['skill_promotion']);
    await app.close();
  } finally {
    setEventSink(prev);
    cleanup();
  }
});

test('no spam: one generation per skill at a time, a queued one is waited for, the budget is an error run', async () => {
  const { dir, cleanup } = tempDir('rp-pulse-skill-');
  const prev = setEventSink(() => undefined);
  try {
    const settings = settingsFromEnv(envFor(dir, { RUSTY_PINCH_EVOLUTION_SKILL_DAILY_BUDGET: '1' }), dir);
    const app = await createApp({ settings });
    const pulse = await app.pulse();
    await pulse.addSkillGeneration(job('greet-a', 'greet'));
    await pulse.addSkillGeneration(job('greet-b', 'greet'));
    fake.script(GREET);
    const asked = fake.requests.length;
    const both = await tickJobs(pulse, 'greet-a', 'greet-b');
    assert.deepEqual(both.map((r) => r.status), ['ok', 'ok']);
    const messages = both.map((r) => r.message).sort();
    assert.match(messages[0]!, /^no-op: a generation of skill 'greet' is already running \(pid \d+, started .+\)$/);
    assert.match(messages[1]!, /^skill 'greet' pending_approval/);
    assert.equal(fake.requests.length, asked + 1);

    // A generation queued for a later model answer (Codex) is waited for, not asked again.
    const staging = join(settings.workspace, 'skills', 'staging', 'uptime');
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(staging, 'queued.json'), JSON.stringify({ request_id: 'req-1', goal: 'g', attempt: 1, max_attempts: 3, replace: false, origin: 'pulse', require_approval: true, prompt: 'p' }));
    await pulse.addSkillGeneration(job('uptime', 'uptime', { goal: 'report the uptime' }));
    const [queued] = await tickJobs(pulse, 'uptime');
    assert.equal(queued!.status, 'ok');
    assert.match(queued!.message, /^no-op: a generation of skill 'uptime' is queued for the model since /);

    // An OODA action asking for the skill, waiting for approval, is a request already made.
    await pulse.createPending('skill_create stats report the load average', 'high', undefined);
    await pulse.addSkillGeneration(job('stats', 'stats', { goal: 'report the load' }));
    const [ooda] = await tickJobs(pulse, 'stats');
    assert.match(ooda!.message, /^no-op: a request for skill 'stats' already waits for the operator's approval/);

    // The budget (1 a day) is used up by 'greet': another skill's run fails and says why.
    await pulse.addSkillGeneration(job('clock', 'clock', { goal: 'tell the time' }));
    const [over] = await tickJobs(pulse, 'clock');
    assert.equal(over!.status, 'error');
    assert.match(over!.message, /budget is used up.*RUSTY_PINCH_EVOLUTION_SKILL_DAILY_BUDGET/);
    // (The failing job's OODA follow-up asks the model to assess it; the generation never did.)
    assert.ok(!fake.requests.slice(asked).some((r) => r.rawBody.includes('tell the time')), 'the budget is checked before the model is asked');
    assert.ok(!existsSync(join(settings.workspace, 'skills', 'clock.js')));
    await app.close();
  } finally {
    setEventSink(prev);
    cleanup();
  }
});

test('a rejected or expired candidate pauses the job until it is enabled again', async () => {
  const { dir, cleanup } = tempDir('rp-pulse-skill-');
  const prev = setEventSink(() => undefined);
  try {
    const settings = settingsFromEnv(envFor(dir), dir);
    const app = await createApp({ settings });
    const pulse = await app.pulse();
    const added = await pulse.addSkillGeneration(job('want-greet', 'greet'));
    assert.ok(added.asking_since, 'a skill job knows since when it asks');
    const tokenOf = () => (pulse.status().pending_approvals as Array<{ token: string }>)[0]!.token;
    const asked = fake.requests.length;

    fake.script(GREET);
    assert.match((await tickJobs(pulse, 'want-greet'))[0]!.message, /pending_approval/);
    await pulse.reject(tokenOf(), 'not like this');
    const [paused] = await tickJobs(pulse, 'want-greet');
    assert.equal(paused!.status, 'ok');
    assert.match(paused!.message, /^no-op: paused, the operator rejected the last request for skill 'greet' \(.+\); 'pulse job enable --id want-greet' asks again$/);
    assert.equal(fake.requests.length, asked + 1);

    // Enabling (the job is enabled already) resumes it; an approval left to expire pauses it again.
    const resumed = await pulse.setJobEnabled('want-greet', true);
    assert.ok(Date.parse(resumed.asking_since!) >= Date.parse(added.asking_since!));
    fake.script(GREET);
    assert.match((await tickJobs(pulse, 'want-greet'))[0]!.message, /pending_approval/);
    assert.equal(fake.requests.length, asked + 2);
    await pulse.mutate((s) => {
      for (const a of s.pending_approvals) a.expires_at = '2001-01-01T00:00:00+00:00';
    });
    const [expired] = await tickJobs(pulse, 'want-greet');
    assert.match(expired!.message, /^no-op: paused, the operator let expire the last request for skill 'greet'/);
    assert.equal(fake.requests.length, asked + 2);
    await app.close();
  } finally {
    setEventSink(prev);
    cleanup();
  }
});

test('a model that fails is an error run; --replace asks again for a live skill; without Evolution the run says so', async () => {
  const { dir, cleanup } = tempDir('rp-pulse-skill-');
  const prev = setEventSink(() => undefined);
  try {
    const settings = settingsFromEnv(envFor(dir, { RUSTY_PINCH_PROVIDER_MAX_RETRIES: '0' }), dir);
    const app = await createApp({ settings });
    const pulse = await app.pulse();
    mkdirSync(join(settings.workspace, 'skills'), { recursive: true });
    writeFileSync(join(settings.workspace, 'skills', 'greet.js'), 'function main() { return "old" }\n');
    await pulse.addSkillGeneration(job('renew', 'greet', { replace: true }));
    fake.script(status(400, 'bad request from the fake'));
    const [failed] = await tickJobs(pulse, 'renew');
    assert.equal(failed!.status, 'error');
    assert.match(failed!.message, /skill 'greet' was not generated after 1 attempt\(s\): the model failed/);
    fake.script(GREET);
    const [renewed] = await tickJobs(pulse, 'renew');
    assert.equal(renewed!.status, 'ok', renewed!.message);
    assert.match(renewed!.message, /^skill 'greet' pending_approval/);
    assert.equal(readFileSync(join(settings.workspace, 'skills', 'greet.js'), 'utf8'), 'function main() { return "old" }\n', 'the live version stays until approved');
    await app.close();

    // A Pulse without the Evolution callback (as a process that has none) never fakes a run.
    const bare = openPulse({ workspace: join(dir, 'bare'), settings: settings.pulse, codexEnabled: false, clock: new ManualClock() });
    await bare.addSkillGeneration(job('lonely', 'lonely'));
    const [none] = await tickJobs(bare, 'lonely');
    assert.deepEqual([none!.status, none!.message], ['error', 'skill generation is not available in this process (Evolution is not wired in)']);
  } finally {
    setEventSink(prev);
    cleanup();
  }
});
