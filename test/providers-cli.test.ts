// The built CLI as a user runs it: `run` against the fake OpenAI server and the fake codex.
// stdout is only the answer, one `event=turn` line per turn, one error line on failure, the
// user's message kept even when the provider fails, and the Codex child kept on a short leash.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, events, FAKE_CODEX, processGone, runCli, tempDir } from './helpers.js';
import { startFakeOpenAI, status, text, type FakeOpenAI } from './fakes/openai-server.js';

const KEY = 'cli-test-key-0123456789';
let fake: FakeOpenAI;
before(async () => {
  fake = await startFakeOpenAI();
});
after(() => fake.close());
beforeEach(() => void (fake.requests.length = 0));

function openaiEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return cleanEnv(dir, {
    RUSTY_PINCH_PROVIDER: 'openai',
    RUSTY_PINCH_MODEL: 'cli-model',
    RUSTY_PINCH_API_BASE: fake.base,
    RUSTY_PINCH_OPENAI_API_KEY: KEY,
    RUSTY_PINCH_RETRY_BACKOFF_MS: '1',
    RUSTY_PINCH_RETRY_MAX_BACKOFF_MS: '5',
    ...extra,
  });
}

function turnEvents(stderr: string): Array<Record<string, unknown>> {
  return events(stderr).filter((e) => e.event === 'turn');
}

async function sessionJson(env: Record<string, string>, id: string): Promise<Array<{ role: string; content: string }>> {
  const r = await runCli(['session', '--session', id], { env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('openai run: stdout is only the answer, one turn event with attempts and latency', async () => {
  const t = tempDir();
  try {
    fake.script(status(429), text('Hello from the fake model'));
    const r = await runCli(['run', '--session', 'cli1', '--message', 'hi model'], { env: openaiEnv(t.dir) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Hello from the fake model\n');
    const turns = turnEvents(r.stderr);
    assert.equal(turns.length, 1);
    assert.equal(turns[0]!.status, 'ok');
    assert.equal(turns[0]!.provider, 'openai');
    assert.equal(turns[0]!.attempts, 2);
    assert.equal(typeof turns[0]!.latency_ms, 'number');
    assert.equal(fake.requests.length, 2);
    assert.equal(r.stderr.includes(KEY), false);
    const last = fake.requests[1]!.body.messages.at(-1);
    assert.deepEqual(last, { role: 'user', content: 'hi model' });

    // a second turn carries the first exchange as history
    fake.script(text('second answer'));
    const r2 = await runCli(['run', '--session', 'cli1', '--message', 'and again'], { env: openaiEnv(t.dir) });
    assert.equal(r2.code, 0, r2.stderr);
    const msgs = fake.requests[2]!.body.messages as Array<{ role: string; content: string }>;
    assert.deepEqual(msgs.slice(1), [
      { role: 'user', content: 'hi model' },
      { role: 'assistant', content: 'Hello from the fake model' },
      { role: 'user', content: 'and again' },
    ]);
  } finally {
    t.cleanup();
  }
});

test('openai run failure: exit 1, one Error line with the request id, user message kept', async () => {
  const t = tempDir();
  try {
    fake.script(status(401, `bad key ${KEY}`));
    const env = openaiEnv(t.dir);
    const r = await runCli(['run', '--session', 'fail1', '--message', 'please remember me'], { env });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const errorLines = r.stderr.split('\n').filter((l) => l.startsWith('Error:'));
    assert.equal(errorLines.length, 1, r.stderr);
    assert.match(errorLines[0]!, /^Error: request_id=rp-[0-9a-f]+-[0-9a-f]+: provider call failed on attempt 1\/3: permanent error: .*RUSTY_PINCH_OPENAI_API_KEY.*refused/);
    assert.equal(r.stderr.includes(KEY), false, 'the key never appears');
    const turns = turnEvents(r.stderr);
    assert.equal(turns.length, 1);
    assert.equal(turns[0]!.status, 'error');
    assert.equal(turns[0]!.attempts, 1);
    const history = await sessionJson(env, 'fail1');
    assert.deepEqual(history.map((m) => [m.role, m.content]), [['user', 'please remember me']]);
  } finally {
    t.cleanup();
  }
});

test('openai run with no key: clear error naming the variables, no request sent', async () => {
  const t = tempDir();
  try {
    const r = await runCli(['run', '--session', 's', '--message', 'x'], { env: openaiEnv(t.dir, { RUSTY_PINCH_OPENAI_API_KEY: '' }) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error: request_id=rp-\S+: missing API key for provider 'openai'/);
    assert.match(r.stderr, /hint: .*RUSTY_PINCH_OPENAI_API_KEY/);
    assert.equal(fake.requests.length, 0);
  } finally {
    t.cleanup();
  }
});

// ---- Codex ----

/**
 * Fake codex settings, readable whichever executor runs the CLI: the direct one (CODEX_HOME
 * from the env) or the account pool (`<home root>/<account id>`).
 */
function codexEnv(dir: string, config: Record<string, unknown>, extra: Record<string, string> = {}, accounts = ['default']): Record<string, string> {
  const home = join(dir, 'codex-home');
  const root = join(dir, 'codex-homes');
  const body = JSON.stringify({ log: join(dir, 'codex-log.jsonl'), ...config });
  for (const d of [home, ...accounts.map((a) => join(root, a))]) {
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'fake-codex.json'), body);
  }
  return cleanEnv(dir, {
    RUSTY_PINCH_PROVIDER: 'codex',
    RUSTY_PINCH_CODEX_CLI_BIN: FAKE_CODEX,
    CODEX_HOME: home,
    RUSTY_PINCH_CODEX_HOME_ROOT: root,
    RUSTY_PINCH_CODEX_TIMEOUT_SECS: '10',
    ...extra,
  });
}
/** The fake's log of `exec` runs (health checks and logins are left out). */
function codexLog(dir: string): Array<Record<string, any>> {
  return readFileSync(join(dir, 'codex-log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((e) => e.argv[0] === 'exec');
}

test('codex run: answer returned, prompt on stdin (not argv) with the earlier history', async () => {
  const t = tempDir();
  try {
    const env = codexEnv(t.dir, {}, { OPENROUTER_API_KEY: 'sk-or-parent-secret-123456', RUSTY_PINCH_TELEGRAM_BOT_TOKEN: '123:abc' });
    const r1 = await runCli(['run', '--session', 'cx', '--message', 'my name is Zed'], { env });
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r1.stdout, 'fake codex saw: User: my name is Zed\n');
    const t1 = turnEvents(r1.stderr);
    assert.equal(t1.length, 1);
    assert.equal(t1[0]!.attempts, 1);
    assert.equal(t1[0]!.provider, 'codex');

    const r2 = await runCli(['run', '--session', 'cx', '--message', 'what is my name?'], { env });
    assert.equal(r2.code, 0, r2.stderr);
    const [first, second] = codexLog(t.dir);
    for (const entry of [first!, second!]) {
      assert.equal(entry.argv.at(-1), '-', 'prompt comes from stdin');
      assert.equal(entry.argv.some((a: string) => /Zed|my name|Rusty Pinch/.test(a)), false, `prompt leaked into argv: ${JSON.stringify(entry.argv)}`);
      assert.equal(entry.env.includes('OPENROUTER_API_KEY'), false, 'parent secret inherited');
      assert.equal(entry.env.includes('RUSTY_PINCH_TELEGRAM_BOT_TOKEN'), false);
      assert.ok(entry.codex_home === join(t.dir, 'codex-home') || entry.codex_home === join(t.dir, 'codex-homes', 'default'), entry.codex_home);
    }
    assert.match(second!.stdin, /# Rusty Pinch/, 'system prompt included');
    assert.match(second!.stdin, /User: my name is Zed/, 'earlier user message included');
    assert.match(second!.stdin, /Assistant: fake codex saw: User: my name is Zed/, 'earlier answer included');
    assert.match(second!.stdin, /## Message to answer\n\nUser: what is my name\?$/);
  } finally {
    t.cleanup();
  }
});

test('codex account key: passed to the child under its own name; missing → clear error', async () => {
  const t = tempDir();
  try {
    const env = codexEnv(t.dir, { show_env: 'MY_CODEX_KEY,OPENAI_API_KEY' }, { RUSTY_PINCH_CODEX_ACCOUNTS: 'main|MY_CODEX_KEY|10|acct-model', MY_CODEX_KEY: 'sk-account-key-xyz', OPENAI_API_KEY: 'sk-parent-openai' }, ['main']);
    const r = await runCli(['run', '--session', 'k', '--message', 'hello'], { env });
    assert.equal(r.code, 0, r.stderr);
    const [entry] = codexLog(t.dir);
    assert.deepEqual(entry!.env_values, { MY_CODEX_KEY: 'sk-account-key-xyz', OPENAI_API_KEY: null });
    assert.deepEqual(entry!.argv.slice(-3), ['--model', 'acct-model', '-']);
    const missing = await runCli(['run', '--session', 'k', '--message', 'hello'], { env: { ...env, MY_CODEX_KEY: '' } });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /required env 'MY_CODEX_KEY' is missing for codex account/);
  } finally {
    t.cleanup();
  }
});

test('codex hang: stopped after the timeout, no orphan, user message kept', async () => {
  const t = tempDir();
  try {
    const env = codexEnv(t.dir, { mode: 'hang-tree' }, { RUSTY_PINCH_CODEX_TIMEOUT_SECS: '1' });
    const r = await runCli(['run', '--session', 'h', '--message', 'are you there'], { env, timeoutMs: 15_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.signal, null, 'the CLI itself finished on its own');
    assert.match(r.stderr, /Error: request_id=rp-\S+: .*codex cli timed out after 1s and was stopped/);
    const [entry] = codexLog(t.dir);
    assert.ok(await processGone(entry!.pid), 'codex child still alive');
    assert.ok(await processGone(entry!.grandchild_pid), 'codex grandchild still alive');
    const turns = turnEvents(r.stderr);
    assert.equal(turns.length, 1);
    assert.equal(turns[0]!.attempts, 1);
    const history = await sessionJson(env, 'h');
    assert.deepEqual(history.map((m) => m.content), ['are you there']);
  } finally {
    t.cleanup();
  }
});

test('codex failure: exit code and stderr in one clear error line', async () => {
  const t = tempDir();
  try {
    const r = await runCli(['run', '--session', 'f', '--message', 'x'], { env: codexEnv(t.dir, { mode: 'fail-exec' }) });
    assert.equal(r.code, 1);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('Error:'));
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^Error: request_id=rp-\S+: .*codex cli exited with code 1: fake codex: model refused/);
  } finally {
    t.cleanup();
  }
});

// Issue 2 item 9: with the default provider and no Codex CLI, the error says how to install and
// log in, or how to choose another provider (the pool fails at once instead of queueing).
test('codex missing: the error says how to install and log in, or pick another provider', async () => {
  const t = tempDir();
  try {
    const r = await runCli(['run', '--session', 'm', '--message', 'x'], { env: codexEnv(t.dir, {}, { RUSTY_PINCH_CODEX_CLI_BIN: join(t.dir, 'no-codex-here') }) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error: request_id=rp-\S+: .*failed to execute codex cli command '.*no-codex-here': not found/);
    assert.match(r.stderr, /npm install -g @openai\/codex/);
    assert.match(r.stderr, /codex login/);
    assert.match(r.stderr, /RUSTY_PINCH_PROVIDER=local/);
  } finally {
    t.cleanup();
  }
});

test('codex --json output through the CLI: the agent message is the answer', async () => {
  const t = tempDir();
  try {
    const env = codexEnv(t.dir, { mode: 'json', reply: 'structured hello' }, { RUSTY_PINCH_CODEX_CLI_ARGS: 'exec --skip-git-repo-check --json' });
    const r = await runCli(['run', '--session', 'j', '--message', 'x'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'structured hello\n');
  } finally {
    t.cleanup();
  }
});
