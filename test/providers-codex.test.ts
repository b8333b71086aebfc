// CodexProvider with its default (direct) executor and with injected executors: the rendered
// prompt (history, tool results), result mapping (executed, queued, failed), and the direct
// run's env, account key, timeout, failure and missing-binary errors, through a real Runtime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingsFromEnv, type Settings } from '../src/config/index.js';
import { createApp, type App } from '../src/app/index.js';
import { setEventSink } from '../src/observe/index.js';
import { CodexProvider, queuedText, type CodexExecutor } from '../src/providers/codex-provider.js';
import { renderCodexPrompt } from '../src/providers/codex-prompt.js';
import { ProviderError } from '../src/providers/index.js';
import { cleanEnv, FAKE_CODEX, processGone, tempDir } from './helpers.js';

setEventSink(() => {}); // turn lines are asserted elsewhere; keep test output clean

function setup(config: Record<string, unknown> = {}, extra: Record<string, string> = {}): { dir: string; settings: Settings; cleanup: () => void; log: () => Array<Record<string, any>> } {
  const t = tempDir();
  const home = join(t.dir, 'codex-home');
  mkdirSync(home, { recursive: true });
  const logFile = join(t.dir, 'log.jsonl');
  writeFileSync(join(home, 'fake-codex.json'), JSON.stringify({ log: logFile, ...config }));
  const env = cleanEnv(t.dir, { RUSTY_PINCH_PROVIDER: 'codex', RUSTY_PINCH_CODEX_CLI_BIN: FAKE_CODEX, CODEX_HOME: home, RUSTY_PINCH_SESSION_FSYNC: 'false', ...extra });
  return {
    dir: t.dir,
    settings: settingsFromEnv(env, t.dir),
    cleanup: t.cleanup,
    log: () => readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l)),
  };
}

async function app(settings: Settings, executor?: CodexExecutor): Promise<App> {
  return createApp({ settings, provider: new CodexProvider(settings, executor) });
}

test('prompt rendering: system prompt, transcript with tool exchange, message to answer', () => {
  const text = renderCodexPrompt([
    { role: 'system', content: 'SYSTEM PROMPT' },
    { role: 'user', content: 'first question' },
    { role: 'assistant', content: 'first answer' },
    { role: 'assistant', content: '', tool_calls: [{ id: 'c', name: 'time_now', arguments: '{}' }] },
    { role: 'tool', content: '12:00', tool_call_id: 'c', name: 'time_now' },
    { role: 'system', content: '[tool:time_now args=]\n12:00' },
    { role: 'user', content: 'so what time is it?' },
  ]);
  assert.equal(
    text,
    [
      'SYSTEM PROMPT',
      '## Conversation so far',
      'User: first question',
      'Assistant: first answer',
      'Assistant: /tool time_now {}',
      'Tool result (time_now): 12:00',
      'System: [tool:time_now args=]\n12:00',
      '## Message to answer',
      'User: so what time is it?',
    ].join('\n\n'),
  );
  assert.equal(renderCodexPrompt([{ role: 'user', content: 'only' }]), '## Message to answer\n\nUser: only');
  assert.equal(renderCodexPrompt([]), '');
});

test('direct run through the runtime: answer back, history in the stdin prompt, not on argv', async () => {
  const s = setup({}, { OPENROUTER_API_KEY: 'sk-or-parent-secret-000000', SOME_TOKEN: 'x' });
  const a = await app(s.settings);
  try {
    const r1 = await a.runtime.handle({ sessionId: 'c1', text: 'remember the word avocado' });
    assert.equal(r1.status, 'ok', r1.text);
    assert.equal(r1.text, 'fake codex saw: User: remember the word avocado');
    const r2 = await a.runtime.handle({ sessionId: 'c1', text: 'which word?' });
    assert.equal(r2.status, 'ok', r2.text);
    const [, second] = s.log();
    assert.deepEqual(second!.argv, ['exec', '--skip-git-repo-check', '--model', 'gpt-5-codex', '-']);
    assert.match(second!.stdin, /User: remember the word avocado\n\nAssistant: fake codex saw: User: remember the word avocado/);
    assert.match(second!.stdin, /User: which word\?$/);
    assert.equal(second!.env.includes('OPENROUTER_API_KEY'), false);
    assert.equal(second!.env.includes('SOME_TOKEN'), false);
    assert.equal(second!.codex_home, join(s.dir, 'codex-home'));
  } finally {
    await a.close();
    s.cleanup();
  }
});

test('arg prompt mode puts the prompt on argv (documented exposure), nothing on stdin', async () => {
  const s = setup({}, { RUSTY_PINCH_CODEX_PROMPT_MODE: 'arg' });
  const a = await app(s.settings);
  try {
    const r = await a.runtime.handle({ sessionId: 'arg', text: 'hello' });
    assert.equal(r.status, 'ok', r.text);
    const [entry] = s.log();
    assert.match(entry!.argv.at(-1), /User: hello$/);
    assert.equal(entry!.stdin, '');
  } finally {
    await a.close();
    s.cleanup();
  }
});

test('account key: passed under its own name; a missing one is a clear error', async () => {
  const s = setup({ show_env: 'ACCT_KEY,OPENAI_API_KEY' }, { RUSTY_PINCH_CODEX_ACCOUNTS: 'a1|ACCT_KEY|5|m-acct', ACCT_KEY: 'sk-acct-123456789', OPENAI_API_KEY: 'sk-parent-999999999' });
  const a = await app(s.settings);
  try {
    const r = await a.runtime.handle({ sessionId: 'k', text: 'x' });
    assert.equal(r.status, 'ok', r.text);
    const [entry] = s.log();
    assert.deepEqual(entry!.env_values, { ACCT_KEY: 'sk-acct-123456789', OPENAI_API_KEY: null });
    assert.deepEqual(entry!.argv.slice(-3), ['--model', 'm-acct', '-']);
  } finally {
    await a.close();
    s.cleanup();
  }
  const s2 = setup({}, { RUSTY_PINCH_CODEX_ACCOUNTS: 'a1|ACCT_KEY|5|' });
  const a2 = await app(s2.settings);
  try {
    const r = await a2.runtime.handle({ sessionId: 'k', text: 'x' });
    assert.equal(r.status, 'error');
    assert.match(r.error ?? '', /required env 'ACCT_KEY' is missing for codex account \(attempts=1/);
  } finally {
    await a2.close();
    s2.cleanup();
  }
});

test('hang: the turn fails after the timeout, the child is gone, the user message is kept', async () => {
  const s = setup({ mode: 'hang' }, { RUSTY_PINCH_CODEX_TIMEOUT_SECS: '1' });
  const a = await app(s.settings);
  try {
    const r = await a.runtime.handle({ sessionId: 'h', text: 'hello?' });
    assert.equal(r.status, 'error');
    assert.match(r.error ?? '', /^codex cli timed out after 1s and was stopped \(attempts=1, latency_ms=\d+\)$/);
    const pid = s.log()[0]!.pid as number;
    assert.ok(await processGone(pid, 10_000), 'the hung child was stopped');
    assert.deepEqual(a.sessions.all('h').map((m) => m.content), ['hello?']);
  } finally {
    await a.close();
    s.cleanup();
  }
});

test('failure and missing binary: clear errors, the latter with the install hint', async () => {
  const s = setup({ mode: 'fail' });
  const a = await app(s.settings);
  try {
    const r = await a.runtime.handle({ sessionId: 'f', text: 'x' });
    assert.equal(r.status, 'error');
    assert.match(r.error ?? '', /^codex cli exited with code 1: fake codex: model refused \(attempts=1/);
  } finally {
    await a.close();
    s.cleanup();
  }
  const m = setup({}, { RUSTY_PINCH_CODEX_CLI_BIN: '/nonexistent/codex' });
  const b = await app(m.settings);
  try {
    const r = await b.runtime.handle({ sessionId: 'm', text: 'x' });
    assert.equal(r.status, 'error');
    assert.match(r.error ?? '', /failed to execute codex cli command '\/nonexistent\/codex': not found/);
    assert.match(r.hint ?? '', /npm install -g @openai\/codex.*codex login.*RUSTY_PINCH_PROVIDER=local/);
  } finally {
    await b.close();
    m.cleanup();
  }
});

test('disabled codex is refused', async () => {
  const s = setup({}, { RUSTY_PINCH_CODEX_ENABLED: 'false' });
  try {
    const p = new CodexProvider(s.settings);
    await assert.rejects(p.complete({ requestId: 'r', sessionId: 's', messages: [{ role: 'user', content: 'x' }] }), /codex integration is disabled/);
  } finally {
    s.cleanup();
  }
});

test('injected executor: purpose and prompt passed; queued → short text, attempts 0; errors → ProviderError', async () => {
  const s = setup();
  const seen: Array<Parameters<CodexExecutor['submit']>[0]> = [];
  let next: 'queued' | 'throw' = 'queued';
  const executor: CodexExecutor = {
    async submit(task) {
      seen.push(task);
      if (next === 'throw') throw new Error('pool exploded');
      return { status: 'queued', taskId: '7', queueDepth: 3, reason: 'rate_limit_guard' };
    },
  };
  const p = new CodexProvider(s.settings, executor);
  try {
    const res = await p.complete({ requestId: 'rp-1', sessionId: 'sess', messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'U' }], origin: { channel: 'telegram', chatId: '42' } });
    assert.deepEqual(res.queued, { taskId: '7', queueDepth: 3, reason: 'rate_limit_guard' });
    assert.equal(res.attempts, 0);
    assert.equal(res.content, queuedText(3));
    assert.match(res.content, /queued .*answered here/);
    assert.equal(seen[0]!.purpose, 'provider_turn:sess');
    assert.equal(seen[0]!.prompt, 'S\n\n## Message to answer\n\nUser: U');
    assert.deepEqual(seen[0]!.origin, { channel: 'telegram', chatId: '42' });
    next = 'throw';
    await assert.rejects(p.complete({ requestId: 'rp-2', sessionId: 'sess', messages: [{ role: 'user', content: 'U' }] }), (e: unknown) => e instanceof ProviderError && e.attempts === 1 && /pool exploded/.test(e.message));
  } finally {
    s.cleanup();
  }
});
