// `pulse job add-skill-generation` spawned as an operator runs it: the JSON shape, the listing,
// garbage flags refused with exit 2 and the state file untouched, a state file with broken
// skill_generation entries salvaged like any invalid entry, and `pulse tick` / `pulse approve`
// end to end against a loopback OpenAI-compatible fake (the CLI's own Evolution wiring).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeOpenAI, text } from './fakes/openai-server.js';
import { cleanEnv, events, runCli, tempDir } from './helpers.js';
import { jobsRows } from '../src/cli/views.js';

const fake = await startFakeOpenAI();
after(() => fake.close());

function env(dir: string) {
  return cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'openai', RUSTY_PINCH_API_BASE: fake.base, RUSTY_PINCH_OPENAI_API_KEY: 'sk-test-pulse-cli-123456', RUSTY_PINCH_CODEX_ENABLED: 'false', RUSTY_PINCH_SESSION_FSYNC: 'false' });
}

async function json(args: string[], e: Record<string, string>): Promise<any> {
  const r = await runCli(['pulse', ...args], { env: e });
  assert.equal(r.code, 0, `pulse ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const ADD = ['job', 'add-skill-generation'];

test('add-skill-generation: shape, listing, garbage flags change nothing', async () => {
  const t = tempDir();
  try {
    const e = env(t.dir);
    const add = await json([...ADD, '--id', 'want-greet', '--interval-secs', '3600', '--name', 'greet', '--goal', '  say hello to a name  '], e);
    assert.deepEqual(add, { status: 'ok', job_id: 'want-greet', action: 'skill_generation', interval_secs: 3600, name: 'greet', goal: 'say hello to a name', replace: false, enabled: true });
    const off = await json([...ADD, '--id', 'renew', '--interval-secs', '86400', '--name', 'weather.js', '--goal', 'a fresh forecast', '--replace', '--disabled'], e);
    // Words about secrets are not secrets.
    await json([...ADD, '--id', 'auth', '--interval-secs', '60', '--name', 'auth', '--goal', 'check that a Bearer token header is set'], e);
    await json(['job', 'remove', '--id', 'auth'], e);
    assert.deepEqual([off.name, off.replace, off.enabled], ['weather', true, false]);
    const list = await json(['job', 'list'], e);
    assert.deepEqual(
      list.jobs.map((j: any) => [j.id, j.enabled, j.action]),
      [
        ['renew', false, { skill_generation: { name: 'weather', goal: 'a fresh forecast', replace: true } }],
        ['runtime-heartbeat', true, { emit_log: { message: 'pulse heartbeat' } }],
        ['want-greet', true, { skill_generation: { name: 'greet', goal: 'say hello to a name', replace: false } }],
      ],
    );
    const state = join(t.dir, 'workspace', 'pulse', 'state.json');
    const before = readFileSync(state, 'utf8');
    const cases: Array<[string[], number, RegExp]> = [
      [['--id', 'x', '--interval-secs', '60', '--name', 'Bad Name', '--goal', 'g'], 2, /invalid skill name 'Bad Name'/],
      [['--id', 'x', '--interval-secs', '60', '--name', '../etc', '--goal', 'g'], 2, /must not contain path separators/],
      [['--id', 'x', '--interval-secs', '60', '--name', '', '--goal', 'g'], 2, /skill name is empty/],
      [['--id', 'x', '--interval-secs', '60', '--name', 'a'.repeat(65), '--goal', 'g'], 2, /skill name too long/],
      [['--id', 'x', '--interval-secs', '60', '--name', 'ok', '--goal', '   '], 2, /skill goal is empty/],
      [['--id', 'x', '--interval-secs', '60', '--name', 'ok', '--goal', 'g'.repeat(401)], 2, /skill goal is too long \(401 characters, max 400\)/],
      [['--id', 'x', '--interval-secs', '60', '--name', 'ok', '--goal', 'two\nlines'], 2, /control characters/],
      [['--id', 'x', '--interval-secs', '60', '--name', 'ok', '--goal', 'evil \u202e txt'], 2, /control characters/],
      [['--id', 'Bad Id', '--interval-secs', '60', '--name', 'ok', '--goal', 'g'], 2, /invalid pulse job id 'Bad Id'/],
      [['--id', 'x', '--interval-secs', '60', '--name', 'ok', '--goal', 'post to the API with key sk-test-pulse-cli-123456'], 2, /skill goal contains a secret/],
      [['--id', 'x', '--interval-secs', '60', '--name', 'ok', '--goal', 'use the key sk-proj-abcdefghijklmnopqrstuv'], 2, /skill goal contains a secret/],
      [['--id', 'x', '--interval-secs', '0', '--name', 'ok', '--goal', 'g'], 2, /must be >= 1/],
      [['--id', 'x', '--interval-secs', 'soon', '--name', 'ok', '--goal', 'g'], 2, /invalid positive integer/],
      [['--id', 'x', '--interval-secs', '60', '--name', 'ok', '--goal', 'g', '--enabled', 'maybe'], 2, /expected true or false/],
      [['--id', 'x', '--interval-secs', '60', '--goal', 'g'], 2, /required option '--name <skill>'/],
      [['--id', 'x', '--interval-secs', '60', '--name', 'ok', '--goal', 'g', '--replace=yes'], 2, /unknown option|does not take an argument/],
      [['--id', 'runtime-heartbeat', '--interval-secs', '60', '--name', 'ok', '--goal', 'g'], 1, /reserved for a default job/],
    ];
    for (const [args, code, re] of cases) {
      const r = await runCli(['pulse', ...ADD, ...args], { env: e });
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
      assert.equal(r.stdout, '');
      assert.ok(!r.stderr.includes('sk-test-pulse-cli-123456'), 'the secret is never echoed');
    }
    assert.equal(readFileSync(state, 'utf8'), before, 'refused input changed nothing');
  } finally {
    t.cleanup();
  }
});

test('state file: an old file loads; broken skill_generation jobs are dropped and the file backed up', async () => {
  const t = tempDir();
  try {
    const e = env(t.dir);
    const dir = join(t.dir, 'workspace', 'pulse');
    mkdirSync(dir, { recursive: true });
    const jobAt = (id: string, action: unknown) => ({ id, interval_secs: 60, action, enabled: true, runs: 0, next_due_at: '2099-01-01T00:00:00+00:00' });
    const original = JSON.stringify({
      jobs: [
        jobAt('api-health', { http_health_check: { url: 'https://example.com/health', expected_status: 200, timeout_secs: 10 } }),
        { ...jobAt('no-replace', { skill_generation: { name: 'greet', goal: 'say hello' } }), asking_since: 42 },
        jobAt('bad-name', { skill_generation: { name: '../etc/passwd', goal: 'x' } }),
        jobAt('bad-goal', { skill_generation: { name: 'ok', goal: 42 } }),
        jobAt('bad-shape', { skill_generation: 'yes' }),
        jobAt('bad-replace', { skill_generation: { name: 'ok', goal: 'x', replace: 'sometimes' } }),
        jobAt('bad-control', { skill_generation: { name: 'ok', goal: 'a\u0007b' } }),
      ],
    });
    writeFileSync(join(dir, 'state.json'), original);
    const r = await runCli(['pulse', 'job', 'list'], { env: e });
    assert.equal(r.code, 0, r.stderr);
    const jobs = JSON.parse(r.stdout).jobs as Array<{ id: string; action: unknown }>;
    assert.deepEqual(jobs.map((j) => j.id), ['api-health', 'no-replace', 'runtime-heartbeat']);
    assert.deepEqual(jobs[1]!.action, { skill_generation: { name: 'greet', goal: 'say hello', replace: false } });
    const warning = events(r.stderr).find((x) => x.event === 'warning' && /pulse state/.test(String(x.message)));
    const problems = ((warning?.problems ?? []) as string[]).join('\n');
    for (const n of [2, 3, 4, 5, 6]) assert.match(problems, new RegExp(`jobs\\[${n}\\]\\.action`), r.stderr);
    assert.match(problems, /path separators/);
    assert.match(problems, /jobs\[1\]\.asking_since/, 'a broken field is reset, the job kept');
    assert.equal((jobs[1] as { asking_since?: string }).asking_since, undefined);
    const backups = readdirSync(dir).filter((f) => f.startsWith('state.json.corrupt-'));
    assert.equal(backups.length, 1);
    assert.equal(readFileSync(join(dir, backups[0]!), 'utf8'), original, 'the original bytes are kept');
  } finally {
    t.cleanup();
  }
});

test('pulse tick runs the job through the model; a second tick while pending is a no-op; pulse approve promotes', async () => {
  const t = tempDir();
  try {
    const e = env(t.dir);
    await json([...ADD, '--id', 'want-greet', '--interval-secs', '3600', '--name', 'greet', '--goal', 'say hello to a name'], e);
    const state = join(t.dir, 'workspace', 'pulse', 'state.json');
    const makeDue = () => {
      const s = JSON.parse(readFileSync(state, 'utf8'));
      for (const j of s.jobs) if (j.id === 'want-greet') j.next_due_at = '2000-01-01T00:00:00+00:00';
      writeFileSync(state, JSON.stringify(s));
    };
    fake.script(text('```js\n// Greets.\nfunction main(a) { return "hi " + (a || "there") }\n```'));
    makeDue();
    const first = await json(['tick'], e);
    assert.deepEqual(first.results.map((x: any) => [x.job_id, x.status]), [['want-greet', 'ok']]);
    const token = /approval token (pa-[0-9a-f]+)/.exec(first.results[0].message)?.[1];
    assert.ok(token, first.results[0].message);
    const live = join(t.dir, 'workspace', 'skills', 'greet.js');
    assert.ok(!existsSync(live));
    assert.ok(existsSync(join(t.dir, 'workspace', 'skills', 'staging', 'greet', 'candidate.js')));

    makeDue();
    const second = await json(['tick'], e);
    assert.match(second.results[0].message, /^no-op: a generated candidate for skill 'greet' already waits/);
    const st = await json(['status'], e);
    assert.deepEqual(st.pending_approvals.map((a: any) => a.token), [token]);

    const ok = await json(['approve', '--token', token!], e);
    assert.equal(ok.approval.outcome.status, 'ok', ok.approval.outcome.message);
    assert.match(readFileSync(live, 'utf8'), /function main/);
    // The readable listing (a terminal) names the skill.
    const rows = jobsRows((await json(['job', 'list'], e)).jobs);
    assert.deepEqual(rows.find((r) => r.id === 'want-greet')?.action, 'skill greet');
    assert.equal(jobsRows([{ id: 'r', action: { skill_generation: { name: 'w', goal: 'g', replace: true } } }])[0]?.action, 'skill w (replace)');
  } finally {
    t.cleanup();
  }
});
