// Queued generations: when the model's answer is queued (Codex pool), the command says so and
// the state is kept in staging; the answer arriving later resumes the pipeline from that attempt;
// a request the pool gave up on ends the generation (no code to validate) and the operator is told.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATION_SESSION, generateSkill, resumeQueuedGeneration, type GenerationDeps } from '../src/evolution/skills/index.js';
import { createApp } from '../src/app/index.js';
import { generationDeps, resumeAndReport } from '../src/app/evolution-deps.js';
import { settingsFromEnv } from '../src/config/index.js';
import { FRIENDLY_LATE_FAILURE, type AgentTask, type Reply } from '../src/kernel/index.js';
import { SkillManager } from '../src/skills/index.js';
import { loadSkillSettingsForTest } from './evolution-helpers.js';
import { setEventSink } from '../src/observe/index.js';
import { cleanEnv, tempDir } from './helpers.js';

test('a queued answer is kept, then resumes the pipeline (a broken late answer gets a correction turn)', async () => {
  const { dir, cleanup } = tempDir('rp-evo-queued-');
  const prev = setEventSink(() => undefined);
  const limits = loadSkillSettingsForTest();
  const skills = new SkillManager(dir, limits, { assetsDir: null });
  try {
    const prompts: string[] = [];
    let n = 0;
    const deps: GenerationDeps = {
      door: { agent: async (task) => (prompts.push(task.prompt), { requestId: `rp-q${++n}`, sessionId: task.sessionId, status: 'ok', text: 'queued', path: 'provider', deferred: true }) },
      sandbox: skills,
      skillsDir: join(dir, 'skills'),
      workspace: dir,
      limits,
      model: 'codex_pool',
    };
    const first = await generateSkill(deps, { name: 'greet', goal: 'greet people', maxAttempts: 3 });
    assert.equal(first.status, 'queued');
    assert.equal(first.attempts, 1);
    assert.ok(existsSync(join(dir, 'skills', 'staging', 'greet', 'queued.json')));
    assert.equal(await resumeQueuedGeneration(deps, { requestId: 'rp-other', text: 'x' }), null, 'not ours');
    // The late answer is broken: the correction is asked (and queued again) with the error.
    const second = await resumeQueuedGeneration(deps, { requestId: 'rp-q1', text: '```js\nfunction main( {\n```' });
    assert.equal(second!.status, 'queued');
    assert.equal(second!.attempts, 2);
    assert.match(prompts[1]!, /failed validation[\s\S]*function main\( \{/);
    const third = await resumeQueuedGeneration(deps, { requestId: 'rp-q2', text: '```js\n// Greets.\nfunction main(a) { return "hi " + (a || "you") }\n```' });
    assert.equal(third!.status, 'promoted');
    assert.equal(third!.attempts, 2, 'the late answer belongs to attempt 2');
    assert.match(readFileSync(join(dir, 'skills', 'greet.js'), 'utf8'), /hi/);
    assert.ok(!existsSync(join(dir, 'skills', 'staging', 'greet', 'queued.json')));
    assert.equal(await resumeQueuedGeneration(deps, { requestId: 'rp-q2', text: 'again' }), null, 'resumed once only');
  } finally {
    await skills.close();
    setEventSink(prev);
    cleanup();
  }
});

test('a queued request the pool gave up on ends the generation as failed (no correction turn) and the operator is told', async () => {
  const { dir, cleanup } = tempDir('rp-evo-queued-fail-');
  const prev = setEventSink(() => undefined);
  const settings = settingsFromEnv(cleanEnv(dir, { RUSTY_PINCH_PULSE_NOTIFY: 'telegram:42' }), dir);
  const app = await createApp({ settings });
  try {
    let calls = 0;
    const door = { agent: async (task: AgentTask): Promise<Reply> => (calls++, { requestId: 'rp-gone', sessionId: task.sessionId, status: 'ok', text: 'queued', path: 'provider', deferred: true }) };
    const first = await generateSkill(generationDeps(app, { door }), { name: 'greet', goal: 'greet people' });
    assert.equal(first.status, 'queued');
    // serve's late path: the pool's failure note arrives instead of an answer.
    await resumeAndReport({ ...app, runtime: door }, app.outbox, { sessionId: GENERATION_SESSION, channel: undefined, chatId: undefined, requestId: 'rp-gone', text: FRIENDLY_LATE_FAILURE });
    assert.equal(calls, 1, 'no correction turn for a note that is not code');
    const sent = await app.outbox.list();
    assert.equal(sent.length, 1);
    assert.deepEqual([sent[0]!.channel, sent[0]!.chat_id], ['telegram', '42']);
    assert.match(sent[0]!.text, /^Skill 'greet' \(queued generation\): failed after 1 attempt\(s\): the queued model request failed for good/);
    assert.ok(!existsSync(join(settings.workspace, 'skills', 'staging', 'greet', 'queued.json')));
    assert.ok(!existsSync(join(settings.workspace, 'skills', 'greet.js')));
    await app.telemetry.flush();
    assert.equal(app.telemetry.read().evolution?.last_skill_status, 'failed');
  } finally {
    await app.close();
    setEventSink(prev);
    cleanup();
  }
});
