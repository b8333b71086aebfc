// Tool use by the model (issue 4 item 6) through the real runtime: native function calls with
// the fake OpenAI server, risky tools refused, the step limit, and the Codex `/tool` convention
// with the result really given back to the model.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingsFromEnv } from '../src/config/index.js';
import { createApp, type App } from '../src/app/index.js';
import { setEventSink } from '../src/observe/index.js';
import { cleanEnv, FAKE_CODEX, tempDir } from './helpers.js';
import { CodexProvider } from '../src/providers/codex-provider.js';
import { startFakeOpenAI, text, toolCalls, type FakeOpenAI } from './fakes/openai-server.js';

let fake: FakeOpenAI;
let lines: Array<Record<string, unknown>> = [];
let restore: ReturnType<typeof setEventSink>;
before(async () => {
  fake = await startFakeOpenAI();
  restore = setEventSink((l) => void lines.push(JSON.parse(l)));
});
after(async () => {
  setEventSink(restore);
  await fake.close();
});
beforeEach(() => {
  fake.requests.length = 0;
  lines = [];
});

async function openaiApp(dir: string): Promise<App> {
  const env = cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'openai', RUSTY_PINCH_API_BASE: fake.base, RUSTY_PINCH_OPENAI_API_KEY: 'k-123456', RUSTY_PINCH_RETRY_BACKOFF_MS: '1', RUSTY_PINCH_SESSION_FSYNC: 'false' });
  return createApp({ settings: settingsFromEnv(env, dir) });
}

function sessionRecords(app: App, id: string): Array<Record<string, any>> {
  return readFileSync(app.sessions.pathFor(id), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

test('native tool call: executed, result sent back, final answer returned, exchange persisted', async () => {
  const t = tempDir();
  const app = await openaiApp(t.dir);
  try {
    fake.script(toolCalls({ id: 'call_t1', name: 'time_now', arguments: '{}' }), text('It is late.'));
    const reply = await app.runtime.handle({ sessionId: 'tools1', text: 'what time is it?' });
    assert.equal(reply.status, 'ok', reply.text);
    assert.equal(reply.text, 'It is late.');
    assert.equal(fake.requests.length, 2);

    const first = fake.requests[0]!.body;
    assert.ok(first.tools.some((x: any) => x.type === 'function' && x.function.name === 'time_now'), 'tools offered as functions');
    const second = fake.requests[1]!.body.messages as any[];
    const assistant = second.at(-2);
    const tool = second.at(-1);
    assert.deepEqual(assistant, { role: 'assistant', content: null, tool_calls: [{ id: 'call_t1', type: 'function', function: { name: 'time_now', arguments: '{}' } }] });
    assert.equal(tool.role, 'tool');
    assert.equal(tool.tool_call_id, 'call_t1');
    assert.match(tool.content, /\d{4}-\d{2}-\d{2}T/, 'the tool result (a timestamp) is in the follow-up');

    const recs = sessionRecords(app, 'tools1');
    assert.deepEqual(recs.map((r) => [r.role, r.kind ?? null]), [
      ['user', null],
      ['assistant', 'tool_call'],
      ['tool', 'tool_result'],
      ['assistant', null],
    ]);
    assert.equal(recs[1]!.tool_calls[0].name, 'time_now');
    assert.equal(recs[2]!.tool_call_id, 'call_t1');
    assert.equal(recs[2]!.content, tool.content);
    assert.equal(recs[3]!.content, 'It is late.');
    const turn = lines.find((e) => e.event === 'turn');
    assert.equal(turn?.tool_name, 'time_now');
    assert.equal(turn?.attempts, 2);

    // A later turn: the window skips the tool records and the request stays valid.
    fake.script(text('later answer'));
    const later = await app.runtime.handle({ sessionId: 'tools1', text: 'thanks' });
    assert.equal(later.status, 'ok', later.text);
    const msgs = fake.requests[2]!.body.messages as any[];
    assert.deepEqual(msgs.slice(1), [
      { role: 'user', content: 'what time is it?' },
      { role: 'assistant', content: 'It is late.' },
      { role: 'user', content: 'thanks' },
    ]);
    assert.equal(msgs.some((m) => m.role === 'tool'), false, 'no tool message without its call');
  } finally {
    await app.close();
    t.cleanup();
  }
});

test('a risky tool asked for by the model is refused with a clear message, not run', async () => {
  const t = tempDir();
  const app = await openaiApp(t.dir);
  let ran = false;
  app.tools.register({
    name: 'wipe_disk',
    description: 'test tool marked risky',
    usage: '/tool wipe_disk',
    risky: true,
    run: async () => {
      ran = true;
      return 'wiped';
    },
  });
  try {
    fake.script(toolCalls({ id: 'call_r', name: 'wipe_disk', arguments: '{"args":"/"}' }), text('I was not allowed to do that.'));
    const reply = await app.runtime.handle({ sessionId: 'risky', text: 'wipe the disk' });
    assert.equal(reply.status, 'ok', reply.text);
    assert.equal(reply.text, 'I was not allowed to do that.');
    assert.equal(ran, false, 'risky tool must not run');
    const fed = (fake.requests[1]!.body.messages as any[]).at(-1);
    assert.equal(fed.role, 'tool');
    assert.match(fed.content, /wipe_disk.*risky.*approval/);
    const recs = sessionRecords(app, 'risky');
    assert.match(recs.find((r) => r.kind === 'tool_result')!.content, /risky/);
  } finally {
    await app.close();
    t.cleanup();
  }
});

test('unknown tools and bad arguments become error text for the model, not a failed turn', async () => {
  const t = tempDir();
  const app = await openaiApp(t.dir);
  try {
    fake.script(toolCalls({ id: 'a', name: 'no_such_tool' }, { id: 'b', name: 'session_tail', arguments: '{not json' }), text('recovered'));
    const reply = await app.runtime.handle({ sessionId: 'unk', text: 'go' });
    assert.equal(reply.status, 'ok', reply.text);
    assert.equal(reply.text, 'recovered');
    const msgs = fake.requests[1]!.body.messages as any[];
    const results = msgs.filter((m) => m.role === 'tool');
    assert.equal(results.length, 2);
    assert.match(results[0].content, /\[tool:no_such_tool error\].*unknown tool/);
    assert.equal(results[1].tool_call_id, 'b');
  } finally {
    await app.close();
    t.cleanup();
  }
});

test('a model that keeps calling tools hits the step limit', async () => {
  const t = tempDir();
  const app = await openaiApp(t.dir);
  try {
    for (let i = 0; i < 10; i++) fake.script(toolCalls({ id: `c${i}`, name: 'time_now' }));
    const reply = await app.runtime.handle({ sessionId: 'loop', text: 'loop forever' });
    assert.equal(reply.status, 'ok', reply.text);
    assert.match(reply.text, /^Tool execution limit reached for this turn/);
    assert.ok(fake.requests.length >= 2 && fake.requests.length <= 6, String(fake.requests.length));
  } finally {
    await app.close();
    t.cleanup();
  }
});

test('codex: `/tool time_now` is run and its result is in the next prompt', async () => {
  const t = tempDir();
  const home = join(t.dir, 'codex-home');
  const script = join(t.dir, 'script.json');
  const log = join(t.dir, 'codex.jsonl');
  writeFileSync(script, JSON.stringify(['/tool time_now', 'The time is now known.']));
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'fake-codex.json'), JSON.stringify({ script, log }));
  const env = cleanEnv(t.dir, { RUSTY_PINCH_PROVIDER: 'codex', RUSTY_PINCH_CODEX_CLI_BIN: FAKE_CODEX, CODEX_HOME: home, RUSTY_PINCH_SESSION_FSYNC: 'false' });
  const settings = settingsFromEnv(env, t.dir);
  // The provider under test with its direct executor (the account pool has its own tests).
  const app = await createApp({ settings, provider: new CodexProvider(settings) });
  try {
    const reply = await app.runtime.handle({ sessionId: 'cx-tools', text: 'what time is it?' });
    assert.equal(reply.status, 'ok', reply.text);
    assert.equal(reply.text, 'The time is now known.');
    const calls = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(calls.length, 2);
    const second: string = calls[1].stdin;
    assert.match(second, /User: what time is it\?/);
    assert.match(second, /Assistant: \/tool time_now/);
    assert.match(second, /\[tool:time_now args=\]\n\d{4}-\d{2}-\d{2}T/, 'the tool result reaches codex');
    assert.match(second, /A tool result is available/);
    const recs = sessionRecords(app, 'cx-tools');
    assert.deepEqual(recs.map((r) => r.kind ?? null), [null, 'tool_call', 'tool_result', null]);
    const turn = lines.find((e) => e.event === 'turn');
    assert.equal(turn?.tool_name, 'time_now');
    assert.equal(turn?.attempts, 2);
  } finally {
    await app.close();
    t.cleanup();
  }
});
