// One generation of a skill at a time across processes (the per-skill claim,
// staging/<name>/generation.lock): real CLI processes started together for the same skill,
// `pulse tick` against `generate-skill`, a kill -9'd holder, garbage and stale claims, a queued
// generation. The fake model holds the winner's request until the loser has answered, so a
// lost race shows as a second request at the model.
import { test, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cleanEnv, events, processGone, runCli, startCli, tempDir, type CliResult } from './helpers.js';
import { held, startFakeOpenAI, text } from './fakes/openai-server.js';
import { AuditChain, EvolutionLock } from '../src/evolution/index.js';
import { setEventSink } from '../src/observe/index.js';
import { SkillBusyError, SkillLibrary, claimGeneration, generateSkill, resumeQueuedGeneration, runningGeneration, type GenerationDeps } from '../src/evolution/skills/index.js';
import { SkillManager } from '../src/skills/index.js';
import { loadSkillSettingsForTest } from './evolution-helpers.js';

const fake = await startFakeOpenAI();
after(() => fake.close());
beforeEach(() => void (fake.requests.length = 0));

const GOOD = '```js\n// Greets.\nfunction main(args) { return "hi " + (args || "there") }\n```\n```json\n{"samples": ["Ann"]}\n```';
const BUSY = (skill: string) => new RegExp(`^Error: a generation of skill '${skill}' is already running \\(pid \\d+, started \\S+, by (cli|pulse)\\)$`, 'm');

function env(dir: string): Record<string, string> {
  return cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'openai', RUSTY_PINCH_MODEL: 'gen-model', RUSTY_PINCH_API_BASE: fake.base, RUSTY_PINCH_OPENAI_API_KEY: 'sk-test-evolution-claim-123456', RUSTY_PINCH_CODEX_ENABLED: 'false', RUSTY_PINCH_RETRY_BACKOFF_MS: '1', RUSTY_PINCH_SESSION_FSYNC: 'false' });
}

/** Resolves when the fake model has seen `n` requests (checked as they arrive, never a fixed wait). */
async function requestsReach(n: number): Promise<void> {
  while (fake.requests.length < n) await new Promise((r) => setTimeout(r, 5));
}

/** A gate the test opens: the fake holds the model's answer until then. */
function gate(): { until: Promise<void>; open: () => void } {
  let open!: () => void;
  const until = new Promise<void>((r) => (open = r));
  return { until, open };
}

function auditRecords(ws: string): Array<Record<string, unknown>> {
  const path = join(ws, 'updates', 'evolution-audit.jsonl');
  if (!existsSync(path)) return [];
  new AuditChain({ path }).verify();
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * Starts both, holds the first model request until one of them has finished (or a second
 * request shows both got through), then lets the winner finish.
 */
async function race(a: ReturnType<typeof startCli>, b: ReturnType<typeof startCli>, g: ReturnType<typeof gate>): Promise<[CliResult, CliResult]> {
  await Promise.race([a.result, b.result, requestsReach(2)]);
  g.open();
  return Promise.all([a.result, b.result]);
}

test('two generate-skill processes started together: exactly one generation runs, the other says who holds it and changes nothing', { timeout: 600_000 }, async () => {
  const t = tempDir('rp-evo-claim-');
  try {
    const e = env(t.dir);
    const ws = join(t.dir, 'workspace');
    for (let round = 0; round < 4; round++) {
      fake.requests.length = 0;
      const skill = `greet${round}`;
      const g = gate();
      fake.script(held(g.until, text(GOOD)));
      const args = ['evolution', 'generate-skill', '--name', skill, '--goal', 'greet a person by name', '--json'];
      const [r1, r2] = await race(startCli(args, e, 240_000), startCli(args, e, 240_000), g);
      const results = [r1, r2];
      const won = results.filter((r) => r.code === 0);
      const lost = results.filter((r) => r.code !== 0);
      assert.equal(won.length, 1, `round ${round}: exactly one wins\n${r1.stderr}\n----\n${r2.stderr}`);
      assert.equal(fake.requests.length, 1, `round ${round}: one generation reached the model`);
      assert.equal((JSON.parse(won[0]!.stdout) as { status: string }).status, 'promoted');
      assert.equal(lost[0]!.code, 1);
      assert.match(lost[0]!.stderr, BUSY(skill));
      assert.equal(lost[0]!.stdout, '', 'the loser prints no result');
      assert.ok(!events(lost[0]!.stderr).some((ev) => ev.event === 'evolution_skill'), 'the loser never started');
      assert.equal(auditRecords(ws).filter((r) => r.skill === skill).length, 1, 'one audit record');
      assert.ok(existsSync(join(ws, 'skills', `${skill}.js`)));
      assert.ok(!existsSync(join(ws, 'skills', 'history', skill)), 'nothing replaced');
      assert.ok(!existsSync(join(ws, 'skills', 'staging', skill, 'generation.lock')), 'the claim is released');
    }
  } finally {
    t.cleanup();
  }
});

test('two generations of different skills started together with one generation left in the daily budget: one runs, the other is refused', { timeout: 600_000 }, async () => {
  for (let round = 0; round < 3; round++) {
    const t = tempDir('rp-evo-budget-');
    try {
      fake.requests.length = 0;
      const e = { ...env(t.dir), RUSTY_PINCH_EVOLUTION_SKILL_DAILY_BUDGET: '1' };
      const g = gate();
      fake.script(held(g.until, text(GOOD)));
      const gen = (skill: string) => startCli(['evolution', 'generate-skill', '--name', skill, '--goal', 'greet a person by name', '--json'], e, 240_000);
      const [r1, r2] = await race(gen('first'), gen('second'), g);
      const results = [r1, r2];
      assert.equal(results.filter((r) => r.code === 0).length, 1, `round ${round}: one runs\n${r1.stderr}\n----\n${r2.stderr}`);
      assert.equal(fake.requests.length, 1, `round ${round}: one generation reached the model`);
      const lost = results.find((r) => r.code !== 0)!;
      assert.match(lost.stderr, /the daily skill generation budget is used up \(1 of 1 today/);
      assert.equal(auditRecords(join(t.dir, 'workspace')).filter((r) => r.kind === 'skill_generation').length, 1);
    } finally {
      t.cleanup();
    }
  }
});

test('pulse tick (a scheduled skill_generation job) and generate-skill started together: one generation', { timeout: 600_000 }, async () => {
  const t = tempDir('rp-evo-claim-pulse-');
  try {
    const e = env(t.dir);
    const ws = join(t.dir, 'workspace');
    const state = join(ws, 'pulse', 'state.json');
    for (let round = 0; round < 2; round++) {
      fake.requests.length = 0;
      const skill = `hello${round}`;
      const add = await runCli(['pulse', 'job', 'add-skill-generation', '--id', `want-${skill}`, '--interval-secs', '3600', '--name', skill, '--goal', 'say hello to a name'], { env: e, timeoutMs: 120_000 });
      assert.equal(add.code, 0, add.stderr);
      const s = JSON.parse(readFileSync(state, 'utf8')) as { jobs: Array<{ id: string; next_due_at: string; enabled: boolean }> };
      for (const j of s.jobs) j.next_due_at = j.id === `want-${skill}` ? '2000-01-01T00:00:00+00:00' : '2999-01-01T00:00:00+00:00';
      writeFileSync(state, JSON.stringify(s));
      const g = gate();
      fake.script(held(g.until, text(GOOD)));
      const [tick, cli] = await race(startCli(['pulse', 'tick'], e, 240_000), startCli(['evolution', 'generate-skill', '--name', skill, '--goal', 'greet a person by name', '--json'], e, 240_000), g);
      assert.equal(tick.code, 0, tick.stderr);
      const message = String((JSON.parse(tick.stdout) as { results: Array<{ job_id: string; message: string }> }).results.find((r) => r.job_id === `want-${skill}`)?.message);
      const generationRequests = fake.requests.filter((r) => r.rawBody.includes('Goal: ')).length;
      assert.equal(generationRequests, 1, `round ${round}: one generation reached the model\n${message}\n${cli.stderr}`);
      if (cli.code === 0) {
        // The CLI won: the job's run is a no-op naming the running generation.
        assert.match(message, new RegExp(`^no-op: (a generation of skill '${skill}' is already running \\(pid \\d+|skill '${skill}' already exists)`));
        assert.ok(existsSync(join(ws, 'skills', `${skill}.js`)));
      } else {
        // The job won (its candidate waits for the operator): the CLI says who holds the skill.
        assert.equal(cli.code, 1);
        assert.match(cli.stderr, BUSY(skill));
        assert.match(message, new RegExp(`^skill '${skill}' pending_approval`));
      }
      assert.equal(auditRecords(ws).filter((r) => r.skill === skill).length, 1, 'one audit record');
    }
  } finally {
    t.cleanup();
  }
});

test("a kill -9'd holder's claim is recovered by the next generation", { timeout: 300_000 }, async () => {
  const t = tempDir('rp-evo-claim-kill-');
  try {
    const e = env(t.dir);
    const ws = join(t.dir, 'workspace');
    fake.script({ kind: 'hang' });
    const holder = startCli(['evolution', 'generate-skill', '--name', 'greet', '--goal', 'greet a person by name'], e, 240_000);
    await requestsReach(1);
    const claim = join(ws, 'skills', 'staging', 'greet', 'generation.lock');
    assert.match(readFileSync(claim, 'utf8'), new RegExp(`^operation=generate-skill:cli pid=${holder.child.pid} `));
    holder.child.kill('SIGKILL');
    assert.equal((await holder.result).signal, 'SIGKILL');
    assert.ok(await processGone(holder.child.pid!, 30_000));
    assert.ok(existsSync(claim), 'the dead holder left its claim');
    fake.script(text(GOOD));
    const r = await runCli(['evolution', 'generate-skill', '--name', 'greet', '--goal', 'greet a person by name', '--json'], { env: e, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { status: string }).status, 'promoted');
    const recovered = events(r.stderr).filter((ev) => ev.event === 'evolution_lock_recovered');
    assert.equal(recovered.length, 1);
    assert.equal(recovered[0]!.holder_alive, false);
    assert.ok(!existsSync(claim));
  } finally {
    t.cleanup();
  }
});

test('garbage in the claim file is recovered; a claim path that is not a file is a clear error that changes nothing', { timeout: 300_000 }, async () => {
  const t = tempDir('rp-evo-claim-garbage-');
  try {
    const e = env(t.dir);
    const ws = join(t.dir, 'workspace');
    const staging = join(ws, 'skills', 'staging');
    for (const [i, junk] of ['', '\u0000\u00ff{not a claim', 'operation=x pid=notanumber host=h\n', 'pid=99999999999999 started_at=yesterday\n'].entries()) {
      mkdirSync(join(staging, `junk${i}`), { recursive: true });
      writeFileSync(join(staging, `junk${i}`, 'generation.lock'), junk);
      fake.script(text(GOOD));
      const r = await runCli(['evolution', 'generate-skill', '--name', `junk${i}`, '--goal', 'greet a person by name', '--json'], { env: e, timeoutMs: 120_000 });
      assert.equal(r.code, 0, `claim ${JSON.stringify(junk)}: ${r.stderr}`);
      assert.ok(existsSync(join(ws, 'skills', `junk${i}.js`)));
      assert.ok(!existsSync(join(staging, `junk${i}`, 'generation.lock')));
    }
    // A directory where the claim belongs: one Error line, exit 1, no model call, no skill.
    mkdirSync(join(staging, 'dirclaim', 'generation.lock'), { recursive: true });
    fake.requests.length = 0;
    const r = await runCli(['evolution', 'generate-skill', '--name', 'dirclaim', '--goal', 'greet a person by name'], { env: e, timeoutMs: 120_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^Error: cannot take the generation claim of skill 'dirclaim' \(.*generation\.lock\): /m);
    assert.match(r.stderr, /hint: remove .*generation\.lock/);
    assert.equal(fake.requests.length, 0);
    assert.ok(!existsSync(join(ws, 'skills', 'dirclaim.js')));
  } finally {
    t.cleanup();
  }
});

test('a generation queued for the model refuses a second one; one queued over 24 h ago is dropped with a warning', { timeout: 300_000 }, async () => {
  const t = tempDir('rp-evo-claim-queued-');
  try {
    const e = env(t.dir);
    const ws = join(t.dir, 'workspace');
    const dir = join(ws, 'skills', 'staging', 'greet');
    mkdirSync(dir, { recursive: true });
    const queued = join(dir, 'queued.json');
    writeFileSync(queued, JSON.stringify({ request_id: 'req-q1', goal: 'g', attempt: 1, max_attempts: 3, replace: false, origin: 'cli', require_approval: false, prompt: 'p' }));
    const r = await runCli(['evolution', 'generate-skill', '--name', 'greet', '--goal', 'greet a person by name'], { env: e, timeoutMs: 120_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: a generation of skill 'greet' is already queued for the model since \S+ \(request req-q1\)$/m);
    assert.equal(fake.requests.length, 0);
    assert.ok(existsSync(queued), 'the queued generation is untouched');
    const old = new Date(Date.now() - 25 * 3600_000);
    utimesSync(queued, old, old);
    fake.script(text(GOOD));
    const again = await runCli(['evolution', 'generate-skill', '--name', 'greet', '--goal', 'greet a person by name', '--json'], { env: e, timeoutMs: 120_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.ok(events(again.stderr).some((ev) => ev.event === 'warning' && /queued more than 24 h ago was dropped/.test(String(ev.message))));
    assert.ok(!existsSync(queued));
  } finally {
    t.cleanup();
  }
});

test('claim rules: a live holder blocks (also in this process), a lease not refreshed for CLAIM_STALE_SECS or on another host goes stale, release removes only its own claim', () => {
  const t = tempDir('rp-evo-claim-unit-');
  const recovered: string[] = [];
  const prev = setEventSink((l) => recovered.push(l));
  try {
    const lib = new SkillLibrary(join(t.dir, 'skills'), 'clock');
    const path = join(lib.stagingDir, 'generation.lock');
    const first = claimGeneration(lib, 'cli');
    assert.throws(() => claimGeneration(lib, 'pulse'), (err: unknown) => err instanceof SkillBusyError && /already running \(pid \d+, started \S+, by cli\)/.test(err.message));
    assert.equal(runningGeneration(lib)?.pid, process.pid);
    // Our lease, not refreshed for over CLAIM_STALE_SECS (a stuck holder, a reused pid): taken over.
    const old = new Date(Date.now() - 10 * 60_000);
    utimesSync(path, old, old);
    assert.equal(runningGeneration(lib), null);
    const second = claimGeneration(lib, 'pulse');
    first.release(); // no longer its claim: left alone
    assert.match(readFileSync(path, 'utf8'), /operation=generate-skill:pulse /);
    second.release();
    assert.ok(!existsSync(path));
    // Another host's fresh claim blocks; an old one is stale.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(path, `operation=generate-skill:cli pid=${dead} started_at=2026-01-01T00:00:00Z host=not-${hostname()}\n`);
    assert.throws(() => claimGeneration(lib, 'cli'), SkillBusyError);
    utimesSync(path, old, old);
    claimGeneration(lib, 'cli').release();
    assert.ok(!existsSync(path));
    assert.equal(recovered.filter((l) => l.includes('"event":"evolution_lock_recovered"')).length, 2, recovered.join('\n'));
  } finally {
    setEventSink(prev);
    t.cleanup();
  }
});

test('a candidate waiting for the operator is not replaced by a new generation (the approval would promote unseen code)', { timeout: 300_000 }, async () => {
  const t = tempDir('rp-evo-claim-pending-');
  try {
    const e = { ...env(t.dir), RUSTY_PINCH_SKILL_HTTP_ALLOW: '127.0.0.1' };
    const ws = join(t.dir, 'workspace');
    const poster = '```js\n// Posts a note.\nasync function main(args) {\n  const r = await http_post("http://127.0.0.1:9/notes", args || "ping");\n  return "posted " + r.status;\n}\n```';
    fake.script(text(poster));
    const first = await runCli(['evolution', 'generate-skill', '--name', 'note', '--goal', 'post a note', '--json'], { env: e, timeoutMs: 120_000 });
    assert.equal(first.code, 0, first.stderr);
    const token = (JSON.parse(first.stdout) as { approval_token: string }).approval_token;
    const candidate = join(ws, 'skills', 'staging', 'note', 'candidate.js');
    const staged = readFileSync(candidate, 'utf8');
    const asked = fake.requests.length;
    for (const extra of [[], ['--replace']]) {
      const again = await runCli(['evolution', 'generate-skill', '--name', 'note', '--goal', 'post something else', ...extra], { env: e, timeoutMs: 120_000 });
      assert.equal(again.code, 1, again.stderr);
      assert.match(again.stderr, new RegExp(`^Error: a candidate of skill 'note' already waits for the operator's approval \\(token ${token}, expires \\S+\\)$`, 'm'));
      assert.match(again.stderr, new RegExp(`hint: approve it \\(pulse approve --token ${token}\\) or reject it`));
    }
    assert.equal(fake.requests.length, asked, 'no model call');
    assert.equal(readFileSync(candidate, 'utf8'), staged, 'the candidate under review is untouched');
    assert.equal(auditRecords(ws).length, 1);
    // Rejected: a new generation may start.
    assert.equal((await runCli(['pulse', 'reject', '--token', token], { env: e, timeoutMs: 120_000 })).code, 0);
    fake.script(text(GOOD));
    const after = await runCli(['evolution', 'generate-skill', '--name', 'note', '--goal', 'greet instead', '--json'], { env: e, timeoutMs: 120_000 });
    assert.equal(after.code, 0, after.stderr);
    assert.equal((JSON.parse(after.stdout) as { status: string }).status, 'promoted');
  } finally {
    t.cleanup();
  }
});

test('a queued answer is resumed under the claim: two resumers of one answer continue once; a live claim keeps it queued', { timeout: 120_000 }, async () => {
  const { dir, cleanup } = tempDir('rp-evo-claim-resume-');
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  const limits = loadSkillSettingsForTest();
  const skills = new SkillManager(dir, limits, { assetsDir: null });
  try {
    let n = 0;
    const deps: GenerationDeps = {
      door: { agent: async (task) => ({ requestId: `rp-c${++n}`, sessionId: task.sessionId, status: 'ok', text: 'queued', path: 'provider', deferred: true }) },
      sandbox: skills,
      skillsDir: join(dir, 'skills'),
      workspace: dir,
      limits,
      model: 'codex_pool',
    };
    const lib = new SkillLibrary(deps.skillsDir, 'greet');
    assert.equal((await generateSkill(deps, { name: 'greet', goal: 'greet people' })).status, 'queued');
    assert.equal(runningGeneration(lib), null, 'a queued generation holds no claim');
    // A generation holds the claim (it would have to be one that began before the answer came).
    const claim = claimGeneration(lib, 'cli');
    const answer = { requestId: 'rp-c1', text: '```js\n// Greets.\nfunction main(a) { return "hi " + (a || "you") }\n```' };
    assert.equal(await resumeQueuedGeneration(deps, answer), null);
    assert.ok(lines.some((l) => l.includes('"event":"warning"') && l.includes("a queued generation of skill 'greet' was not resumed here: a generation of skill 'greet' is already running")), lines.join('\n'));
    assert.ok(existsSync(join(lib.stagingDir, 'queued.json')), 'still queued: serve resumes it at its next start');
    claim.release();
    const both = await Promise.all([resumeQueuedGeneration(deps, answer), resumeQueuedGeneration(deps, answer)]);
    assert.deepEqual(both.map((r) => r?.status ?? 'not resumed here').sort(), ['not resumed here', 'promoted']);
    assert.ok(existsSync(lib.livePath));
    assert.equal(auditRecords(dir).filter((r) => r.status === 'promoted').length, 1);
  } finally {
    await skills.close();
    setEventSink(prev);
    cleanup();
  }
});

test('a lease holder refreshes its claim, so a long live generation is never taken over', { timeout: 60_000 }, async () => {
  const t = tempDir('rp-evo-claim-beat-');
  try {
    mkdirSync(t.dir, { recursive: true });
    const lease = new EvolutionLock(join(t.dir, 'generation.lock'), { staleAfterSecs: 2, autoRecoverStale: true, heartbeatSecs: 0.02 });
    const hold = lease.acquire('generate-skill:cli');
    const old = new Date(Date.now() - 10 * 60_000);
    utimesSync(lease.path, old, old);
    // The heartbeat brings the age back under the threshold (waited for, not slept).
    while (lease.status().stale !== false) await new Promise((r) => setTimeout(r, 5));
    assert.throws(() => lease.acquire('generate-skill:pulse'), /already in progress/);
    hold.release();
    assert.equal(lease.status().lock_exists, false);
  } finally {
    t.cleanup();
  }
});
