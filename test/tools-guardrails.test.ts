// The /tool parser and guardrails, exactly as the original states them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseToolInvocation, checkToolInput, ToolRegistry, builtinTools } from '../src/tools/index.js';
import { parseAssistantAction } from '../src/core/index.js';
import { settingsFromEnv } from '../src/config/index.js';
import type { ToolContext } from '../src/tools/index.js';

const ctx: ToolContext = {
  sessionId: 's1',
  requestId: 'rp-1-1',
  settings: settingsFromEnv({ RUSTY_PINCH_PROVIDER: 'local' }, '/tmp'),
  source: 'user',
  sessionTail: async () => ({ messages: [{ role: 'user', content: 'a', timestamp: 't' }], total: 9 }),
};

test('exact /tool prefix: /toolbox and /toolx are not tool commands', () => {
  assert.deepEqual(parseToolInvocation('/tool session_tail 7'), { name: 'session_tail', args: '7' });
  assert.deepEqual(parseToolInvocation('  /tool   model_info  '), { name: 'model_info', args: '' });
  assert.deepEqual(parseToolInvocation('/tool   '), { name: '', args: '' });
  assert.deepEqual(parseToolInvocation('/tool\tx\ta b '), { name: 'x', args: 'a b' });
  assert.equal(parseToolInvocation('/toolbox model_info'), undefined);
  assert.equal(parseToolInvocation('/toolx'), undefined);
  assert.equal(parseToolInvocation('/TOOL x'), undefined);
  assert.equal(parseToolInvocation('hello /tool x'), undefined);
});

test('guardrails in order with the original messages', () => {
  assert.throws(() => checkToolInput('  ', ''), /^ValidationError: tool name is empty\. usage: \/tool <name> \[args\]$/);
  assert.throws(() => checkToolInput('a'.repeat(65), ''), /tool name too long \(max 64 characters\)/);
  checkToolInput('a'.repeat(64), '');
  assert.throws(() => checkToolInput('model;info', ''), /invalid tool name 'model;info'\. allowed chars: a-z, 0-9, '_' and '-'/);
  assert.throws(() => checkToolInput('Model', ''), /invalid tool name/);
  assert.throws(() => checkToolInput('ünï', ''), /invalid tool name/);
  // 512 code points pass even when they are 4-byte characters; 513 fail.
  checkToolInput('x', '😀'.repeat(512));
  assert.throws(() => checkToolInput('x', '😀'.repeat(513)), /tool args too long \(max 512 characters\)/);
  for (const bad of ['5\n6', 'a\tb', 'x\u0000', 'x\u007f', 'x\u0085']) assert.throws(() => checkToolInput('x', bad), /tool args contain control characters, which are not allowed/);
});

test('registry: sorted list, unknown tool lists what exists, failures name the tool', async () => {
  const reg = new ToolRegistry();
  for (const t of [...builtinTools].reverse()) reg.register(t);
  assert.deepEqual(reg.names(), ['model_info', 'session_tail', 'time_now']);
  await assert.rejects(reg.execute('nope', '', ctx), /unknown tool 'nope'\. available: model_info, session_tail, time_now/);
  await assert.rejects(reg.execute('model_info', 'x', ctx), /model_info does not accept arguments/);
  await assert.rejects(reg.execute('time_now', 'x', ctx), /time_now does not accept arguments/);
  assert.equal(await reg.execute('model_info', '', ctx), 'provider=local\nmodel=local\nsession_id=s1');
  assert.match(await reg.execute('time_now', '', ctx), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
  assert.throws(() => reg.register({ ...builtinTools[0]!, name: 'Bad Name' }), /invalid tool name/);
});

test('session_tail: count parsing and clamping', async () => {
  const reg = new ToolRegistry();
  for (const t of builtinTools) reg.register(t);
  let asked = 0;
  const c: ToolContext = { ...ctx, sessionTail: async (n) => ((asked = n), { messages: [], total: 0 }) };
  const out = JSON.parse(await reg.execute('session_tail', '', c));
  assert.equal(asked, 5);
  assert.deepEqual(Object.keys(out), ['messages', 'returned_messages', 'session_id', 'total_messages']);
  await reg.execute('session_tail', '500', c);
  assert.equal(asked, 50);
  await assert.rejects(reg.execute('session_tail', '-1', c), /count must be a positive integer/);
  await assert.rejects(reg.execute('session_tail', 'abc', c), /count must be a positive integer/);
  await assert.rejects(reg.execute('session_tail', '0', c), /count must be > 0/);
});

test('assistant actions: single line only; legacy /skills mapping with a word boundary', () => {
  assert.deepEqual(parseAssistantAction('/tool time_now'), { name: 'time_now', args: '' });
  assert.deepEqual(parseAssistantAction('/skills weather --args Paris'), { name: 'skill_run', args: 'weather Paris' });
  assert.deepEqual(parseAssistantAction('/skills run weather Hanoi'), { name: 'skill_run', args: 'weather Hanoi' });
  assert.equal(parseAssistantAction('I will do that now\n/tool time_now'), undefined);
  assert.equal(parseAssistantAction('/skillsfoo weather'), undefined);
  assert.equal(parseAssistantAction('/skills -x'), undefined);
  assert.equal(parseAssistantAction('/tool   '), undefined);
  assert.equal(parseAssistantAction('just text'), undefined);
});
