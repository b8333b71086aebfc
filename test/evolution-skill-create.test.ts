// The `skill_create` tool in-process: a proposal from a chat turn is generated in the
// background through the door and always ends in an operator approval, never a live skill.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../src/app/index.js';
import { settingsFromEnv } from '../src/config/index.js';
import { setEventSink } from '../src/observe/index.js';
import { startFakeOpenAI, text } from './fakes/openai-server.js';
import { cleanEnv, tempDir } from './helpers.js';

const fake = await startFakeOpenAI();
after(() => fake.close());

test('skill_create: a harmless proposal is generated, validated and still waits for the operator', async () => {
  const { dir, cleanup } = tempDir('rp-evo-tool-');
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  try {
    const env = cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'openai', RUSTY_PINCH_API_BASE: fake.base, RUSTY_PINCH_OPENAI_API_KEY: 'sk-test-tool-123456', RUSTY_PINCH_CODEX_ENABLED: 'false', RUSTY_PINCH_SESSION_FSYNC: 'false' });
    const settings = settingsFromEnv(env, dir);
    const app = await createApp({ settings });
    fake.script(text('```js\n// Greets.\nfunction main(a) { return "hi " + (a || "there") }\n```'));
    const reply = await app.runtime.handle({ sessionId: 'chat', text: '/tool skill_create greet say hello to a name' });
    assert.equal(reply.status, 'ok', reply.text);
    assert.match(reply.text, /proposal accepted: skill 'greet'/);
    const bad = await app.runtime.handle({ sessionId: 'chat', text: '/tool skill_create onlyname' });
    assert.equal(bad.status, 'error');
    assert.match(bad.text, /needs a name and a goal/);
    await app.close(); // waits for the background generation
    const pulse = JSON.parse(readFileSync(join(settings.workspace, 'pulse', 'state.json'), 'utf8')) as { pending_approvals: Array<{ action: string; perform: { kind: string; skill: string } }> };
    const pending = pulse.pending_approvals;
    assert.equal(pending.length, 1, lines.join(''));
    assert.deepEqual(pending[0]!.perform.kind, 'skill_promotion');
    assert.match(pending[0]!.action, /promote generated skill 'greet' \(proposed by tool\)\ngoal: say hello to a name/);
    assert.ok(existsSync(join(settings.workspace, 'skills', 'staging', 'greet', 'candidate.js')));
    assert.ok(!existsSync(join(settings.workspace, 'skills', 'greet.js')));
    assert.ok(lines.some((l) => l.includes('"event":"turn"') && l.includes('"session_id":"evolution:skills"')));
  } finally {
    setEventSink(prev);
    cleanup();
  }
});

test('a Pulse action `skill_create <name> <goal>` asks Evolution for a skill; it ends in a promotion approval', async () => {
  const { dir, cleanup } = tempDir('rp-evo-pulse-');
  const prev = setEventSink(() => undefined);
  try {
    const env = cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'openai', RUSTY_PINCH_API_BASE: fake.base, RUSTY_PINCH_OPENAI_API_KEY: 'sk-test-tool-123456', RUSTY_PINCH_CODEX_ENABLED: 'false', RUSTY_PINCH_SESSION_FSYNC: 'false' });
    const settings = settingsFromEnv(env, dir);
    const app = await createApp({ settings });
    const pulse = await app.pulse();
    const ask = await pulse.createPending('skill_create uptime report the uptime as text', 'high', undefined);
    assert.deepEqual(ask.perform, { kind: 'skill_generation', name: 'uptime', goal: 'report the uptime as text' });
    fake.script(text('```js\n// Uptime.\nfunction main() { return "up since " + time_now() }\n```'));
    const done = await pulse.approve(ask.token);
    const outcome = done.approval.outcome as { status: string; message: string };
    assert.equal(outcome.status, 'ok', outcome.message);
    assert.match(outcome.message, /skill 'uptime' pending_approval \(approval token pa-[0-9a-f]+\)/);
    const pending = pulse.status().pending_approvals as Array<{ perform: { kind: string; skill?: string } }>;
    assert.deepEqual(pending.map((p) => [p.perform.kind, p.perform.skill]), [['skill_promotion', 'uptime']]);
    assert.ok(!existsSync(join(settings.workspace, 'skills', 'uptime.js')));
    await app.close();
  } finally {
    setEventSink(prev);
    cleanup();
  }
});
