// `evolution generate-skill` against the REAL @openai/codex CLI (pinned in
// test/fixtures/real-codex, installed on first use) talking to our loopback Responses API
// (test/fakes/responses-api.ts), which first answers with broken skill code and then with good
// code: the self-correction loop converges in two attempts, the second request the model sees
// carries the first attempt's exact error and failing code, and skills/<n>.js appears whole;
// a model that never gets it right leaves skills/ untouched and the command exits 1.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, events, runCli, tempDir } from './helpers.js';
import { operatorLogin, realCodexBin, realCodexVersion, writeCodexHomeConfig } from './real-codex.js';
import { startFakeResponsesApi } from './fakes/responses-api.js';

let CODEX = '';
before(() => {
  // Throws (the suite fails) when the CLI cannot be installed: never a silent skip.
  CODEX = realCodexBin();
});

const KEY = 'sk-real-skills-key-0123456789abcdef';

// Attempt 1: a code-only reply whose main() calls a function that does not exist.
const BROKEN = ['```js', '// Reverses the text it is given.', 'function main(args) {', '  return reversd(args || "pinch");', '}', '```'].join('\n');
// Attempt 2: the fix, with sample arguments.
const GOOD = [
  '```js',
  '// Reverses the text it is given (empty: "pinch").',
  'function main(args) {',
  '  const text = args || "pinch";',
  '  return text.split("").reverse().join("");',
  '}',
  '```',
  '```json',
  '{"samples": ["", "Rusty Pinch"]}',
  '```',
].join('\n');

/** The text of a Responses API request body (the JSON-escaped prompt made readable). */
/** The operator's own Codex home, logged in with the test key and pointed at the loopback API. */
function loggedInEnv(dir: string, baseUrl: string): Record<string, string> {
  const home = join(dir, 'codex-home');
  writeCodexHomeConfig(home, baseUrl);
  operatorLogin(CODEX, home, KEY);
  return cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'codex', RUSTY_PINCH_CODEX_CLI_BIN: CODEX, CODEX_HOME: home, RUSTY_PINCH_CODEX_TIMEOUT_SECS: '90' });
}

function requestText(body: string): string {
  return JSON.stringify(JSON.parse(body)).replace(/\\n/g, '\n').replace(/\\"/g, '"');
}

test(`real codex ${realCodexVersion()}: generate-skill converges from broken to good code; the second prompt carries the first error and code`, { timeout: 300_000 }, async () => {
  const api = await startFakeResponsesApi({ kind: 'sequence', texts: [BROKEN, GOOD] });
  const { dir, cleanup } = tempDir('rp-real-codex-skills-');
  try {
    const env = loggedInEnv(dir, api.baseUrl);
    const r = await runCli(['evolution', 'generate-skill', '--name', 'reverse', '--goal', 'reverse the text it is given', '--json'], { env, timeoutMs: 240_000 });
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const out = JSON.parse(r.stdout) as Record<string, any>;
    assert.equal(out.status, 'promoted', r.stdout);
    assert.equal(out.attempts, 2);
    assert.equal(out.model, 'codex_pool', 'Codex enabled: the pool answers, and the output says so');
    assert.deepEqual(out.samples, ['', 'Rusty Pinch']);
    assert.deepEqual(out.outputs, [
      { args: '', output: 'hcnip' },
      { args: 'Rusty Pinch', output: 'hcniP ytsuR' },
    ]);

    // Two model requests reached the loopback API through the real CLI, with the operator's key.
    assert.equal(api.requests.length, 2, api.requests.map((q) => q.url).join(', '));
    for (const q of api.requests) assert.equal(q.authorization, `Bearer ${KEY}`);
    const first = requestText(api.requests[0]!.body);
    assert.match(first, /Write the skill 'reverse'\. Goal: reverse the text it is given/);
    assert.match(first, /function main\(args\)/, 'the skill contract went with the first request');
    const second = requestText(api.requests[1]!.body);
    assert.match(second, /Attempt 2 of the skill 'reverse' failed validation/);
    assert.match(second, /Error:\nmain\(""\) failed: ReferenceError: 'reversd' is not defined \(at reverse\.js:3:10\)/, 'the exact error of attempt 1');
    assert.match(second, /return reversd\(args \|\| "pinch"\);/, 'the failing code of attempt 1');

    // The live skill is the good code, whole; staging keeps the last attempt; it runs.
    const live = join(dir, 'workspace', 'skills', 'reverse.js');
    assert.equal(out.promoted_path, live);
    assert.ok(existsSync(live));
    assert.match(readFileSync(live, 'utf8'), /split\(""\)\.reverse\(\)\.join\(""\)/);
    assert.doesNotMatch(readFileSync(live, 'utf8'), /reversd/);
    const report = JSON.parse(readFileSync(join(dir, 'workspace', 'skills', 'staging', 'reverse', 'report.json'), 'utf8'));
    assert.deepEqual([report.attempt, report.valid], [2, true]);
    const run = await runCli(['skills', 'run', '--name', 'reverse', '--args', 'abc'], { env, timeoutMs: 60_000 });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /cba/);

    // One event line per step, ending in the promotion; the outcome in stats and the audit chain.
    const steps = events(r.stderr).filter((e) => e.event === 'evolution_skill').map((e) => `${e.step}:${e.status}`);
    assert.deepEqual(steps, ['start:ok', 'generate:ok', 'validate:error', 'generate:ok', 'validate:ok', 'promote:ok', 'finish:promoted']);
    const stats = JSON.parse((await runCli(['stats'], { env })).stdout);
    assert.equal(stats.telemetry.evolution.last_skill_status, 'promoted');
    assert.equal(stats.telemetry.evolution.last_skill_attempts, 2);
    assert.equal(stats.telemetry.evolution.last_skill_model, 'codex_pool');
    const audit = await runCli(['evolution', 'audit-verify'], { env });
    assert.equal(audit.code, 0, audit.stderr);
    for (const text of [r.stdout, r.stderr, readFileSync(join(dir, 'workspace', 'updates', 'evolution-audit.jsonl'), 'utf8')]) assert.equal(text.includes(KEY), false, 'the key leaks nowhere');
  } finally {
    cleanup();
    await api.close();
  }
});

test('real codex: a model that never gets it right leaves skills/ untouched and exits 1 with the last error', { timeout: 300_000 }, async () => {
  const api = await startFakeResponsesApi({ kind: 'sequence', texts: [BROKEN] });
  const { dir, cleanup } = tempDir('rp-real-codex-skills-');
  try {
    const env = loggedInEnv(dir, api.baseUrl);
    const r = await runCli(['evolution', 'generate-skill', '--name', 'reverse', '--goal', 'reverse the text it is given', '--max-attempts', '2'], { env, timeoutMs: 240_000 });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /^Error: skill 'reverse' was not promoted after 2 attempt\(s\): main\(""\) failed: ReferenceError: 'reversd' is not defined/m);
    assert.equal(api.requests.length, 2);
    const skills = join(dir, 'workspace', 'skills');
    assert.equal(existsSync(join(skills, 'reverse.js')), false, 'nothing that failed reaches skills/');
    assert.match(readFileSync(join(skills, 'staging', 'reverse', 'candidate.js'), 'utf8'), /reversd/, 'the last attempt kept for inspection');
  } finally {
    cleanup();
    await api.close();
  }
});
