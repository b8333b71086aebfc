// Codex runner: argv building (prompt off the command line), output parsing (plain and JSONL),
// the minimal child env, and real runs of the fake codex: stdin, timeout with process-group
// kill (no orphans), SIGKILL escalation, abort, spawn failures, output caps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingsFromEnv } from '../src/config/index.js';
import { AppError } from '../src/kernel/index.js';
import { buildCodexExecArgv, codexChildEnv, codexRunOutput, parseCodexOutput, runCodexProcess, MAX_STDOUT_BYTES } from '../src/providers/codex-runner.js';
import { FAKE_CODEX, processGone, tempDir } from './helpers.js';

function codexSettings(env: Record<string, string> = {}) {
  return settingsFromEnv({ RUSTY_PINCH_PROVIDER: 'codex', ...env }, '/tmp').codex;
}

test('argv (stdin mode, default): flags and model, `-` as the prompt, prompt on stdin only', () => {
  const { args, stdin } = buildCodexExecArgv(codexSettings(), 'gpt-x', '  secret prompt text \n');
  assert.deepEqual(args, ['exec', '--json', '--skip-git-repo-check', '-s', 'read-only', '--model', 'gpt-x', '-']);
  assert.equal(stdin, 'secret prompt text');
  assert.equal(args.some((a) => a.includes('secret')), false);
});

test('argv (arg mode): the original layout, with and without a prompt flag', () => {
  const plain = buildCodexExecArgv(codexSettings({ RUSTY_PINCH_CODEX_PROMPT_MODE: 'arg' }), 'm', 'hi');
  assert.deepEqual(plain.args, ['exec', '--json', '--skip-git-repo-check', '-s', 'read-only', '--model', 'm', 'hi']);
  assert.equal(plain.stdin, undefined);
  const flagged = buildCodexExecArgv(codexSettings({ RUSTY_PINCH_CODEX_PROMPT_MODE: 'ARG', RUSTY_PINCH_CODEX_PROMPT_FLAG: '--prompt' }), 'm', 'hi');
  assert.deepEqual(flagged.args, ['exec', '--json', '--skip-git-repo-check', '-s', 'read-only', '--model', 'm', '--prompt', 'hi']);
});

test('argv: empty model flag → bare model; blank model → none; custom cli args', () => {
  const d = ['exec', '--json', '--skip-git-repo-check', '-s', 'read-only'];
  assert.deepEqual(buildCodexExecArgv(codexSettings({ RUSTY_PINCH_CODEX_MODEL_FLAG: '' }), 'm', 'p').args, [...d, 'm', '-']);
  assert.deepEqual(buildCodexExecArgv(codexSettings(), '  ', 'p').args, [...d, '-']);
  assert.deepEqual(buildCodexExecArgv(codexSettings(), undefined, 'p').args, [...d, '-']);
  // The default argv gets the scratch dir; an older CLI runs without --json.
  assert.deepEqual(buildCodexExecArgv(codexSettings(), undefined, 'p', { scratchDir: '/s' }).args, [...d, '-C', '/s', '-']);
  assert.deepEqual(buildCodexExecArgv(codexSettings(), undefined, 'p', { plain: true }).args, ['exec', '--skip-git-repo-check', '-s', 'read-only', '-']);
  // The operator's own argv is used as given (the original's contract).
  assert.deepEqual(buildCodexExecArgv(codexSettings({ RUSTY_PINCH_CODEX_CLI_ARGS: 'exec --json --ephemeral' }), undefined, 'p', { scratchDir: '/s' }).args, ['exec', '--json', '--ephemeral', '-']);
  assert.deepEqual(buildCodexExecArgv(codexSettings({ RUSTY_PINCH_CODEX_CLI_ARGS: 'exec --skip-git-repo-check' }), 'm', 'p').args, ['exec', '--skip-git-repo-check', '--model', 'm', '-']);
});

test('argv: an empty prompt is refused; a bad prompt mode falls back to stdin with an issue', () => {
  assert.throws(() => buildCodexExecArgv(codexSettings(), 'm', ' \n\t'), /codex prompt is empty/);
  const s = settingsFromEnv({ RUSTY_PINCH_PROVIDER: 'codex', RUSTY_PINCH_CODEX_PROMPT_MODE: 'argv' }, '/tmp');
  assert.equal(s.codex.promptMode, 'stdin');
  assert.ok(s.issues.some((i) => i.variable === 'RUSTY_PINCH_CODEX_PROMPT_MODE'));
});

test('plain output: trimmed stdout, else stderr, else a marker', () => {
  assert.equal(parseCodexOutput('  hello\n', 'noise'), 'hello');
  assert.equal(parseCodexOutput(' \n', ' from stderr \n'), 'from stderr');
  assert.equal(parseCodexOutput('', ''), '<empty codex output>');
  assert.equal(parseCodexOutput('{"not":"an event"}\n', ''), '{"not":"an event"}', 'JSON without `type` is plain text');
  assert.equal(parseCodexOutput('{broken json', ''), '{broken json');
});

test('JSONL output: the last agent_message wins; non-fatal error items and garbage lines are skipped', () => {
  const lines = [
    { type: 'thread.started', thread_id: 't' },
    { type: 'turn.started' },
    { type: 'item.completed', item: { id: 'item_0', type: 'error', message: 'Model metadata for `x` not found' } },
    { type: 'item.completed', item: { id: 'item_1', type: 'agent_message', text: 'first' } },
    { type: 'item.completed', item: { id: 'item_2', type: 'command_execution', command: 'ls' } },
    { type: 'item.completed', item: { id: 'item_3', type: 'agent_message', text: ' final answer ' } },
    { type: 'turn.completed', usage: {} },
  ].map((e) => JSON.stringify(e));
  lines.splice(3, 0, 'not json at all', '{"half":');
  assert.equal(parseCodexOutput(lines.join('\n'), ''), 'final answer');
});

test('JSONL output: reconnect errors before an answer do not fail it; turn.failed and lone errors throw', () => {
  const ok = [JSON.stringify({ type: 'error', message: 'Reconnecting... 1/5' }), JSON.stringify({ type: 'item.completed', item: { type: 'agent_message', text: 'fine' } })].join('\n');
  assert.equal(parseCodexOutput(ok, ''), 'fine');
  const failed = [JSON.stringify({ type: 'error', message: 'boom' }), JSON.stringify({ type: 'turn.failed', error: { message: 'unexpected status 401 Unauthorized' } })].join('\n');
  assert.throws(() => parseCodexOutput(failed, ''), /codex turn failed: unexpected status 401 Unauthorized/);
  assert.throws(() => parseCodexOutput(JSON.stringify({ type: 'error', message: 'Missing environment variable' }), ''), /codex reported an error: Missing environment variable/);
  assert.equal(parseCodexOutput(JSON.stringify({ type: 'turn.started' }), 'why'), 'why');
});

test('child env: only the allowed names plus extra; no inherited secrets', () => {
  const env = codexChildEnv(
    { PATH: '/bin', HOME: '/h', USER: 'u', LANG: 'C.UTF-8', LC_ALL: 'C', LC_TIME: 'x', TZ: 'UTC', TMPDIR: '/t', TERM: 'xterm', NO_COLOR: '1', OPENROUTER_API_KEY: 'sk-or-secret', RUSTY_PINCH_TELEGRAM_BOT_TOKEN: 't', OPENAI_API_KEY: 'sk-parent', SSH_AUTH_SOCK: '/s', UNDEF: undefined },
    { CODEX_HOME: '/codex', OPENAI_API_KEY: 'sk-account' },
  );
  assert.deepEqual(env, { PATH: '/bin', HOME: '/h', USER: 'u', LANG: 'C.UTF-8', LC_ALL: 'C', LC_TIME: 'x', TZ: 'UTC', TMPDIR: '/t', TERM: 'xterm', NO_COLOR: '1', CODEX_HOME: '/codex', OPENAI_API_KEY: 'sk-account' });
});

function fakeEnv(dir: string, config: Record<string, unknown>): Record<string, string> {
  writeFileSync(join(dir, 'fake-codex.json'), JSON.stringify({ log: join(dir, 'log.jsonl'), ...config }));
  return codexChildEnv(process.env, { CODEX_HOME: dir });
}
function logLines(dir: string): Array<Record<string, any>> {
  return readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

test('a run: prompt delivered on stdin, answer on stdout, exit 0', async () => {
  const t = tempDir();
  try {
    const env = fakeEnv(t.dir, { reply: 'pong' });
    const res = await runCodexProcess({ bin: FAKE_CODEX, args: ['exec', '-'], stdin: 'ping prompt', env, timeoutMs: 10_000 });
    assert.equal(res.exitCode, 0);
    assert.equal(res.timedOut, false);
    assert.equal(codexRunOutput(res, 10_000), 'pong');
    const [entry] = logLines(t.dir);
    assert.equal(entry!.stdin, 'ping prompt');
    assert.deepEqual(entry!.argv, ['exec', '-']);
  } finally {
    t.cleanup();
  }
});

test('no stdin given: the child reads an empty stdin and does not wait', async () => {
  const t = tempDir();
  try {
    const res = await runCodexProcess({ bin: FAKE_CODEX, args: ['exec', 'hello-arg'], env: fakeEnv(t.dir, {}), timeoutMs: 10_000 });
    assert.equal(res.exitCode, 0);
    assert.equal(res.stdout.trim(), 'fake codex saw: hello-arg');
    assert.equal(logLines(t.dir)[0]!.stdin, '');
  } finally {
    t.cleanup();
  }
});

test('timeout: the whole process group is stopped, grandchild included', async () => {
  const t = tempDir();
  try {
    const res = await runCodexProcess({ bin: FAKE_CODEX, args: ['exec', '-'], stdin: 'p', env: fakeEnv(t.dir, { mode: 'hang-tree' }), timeoutMs: 700 });
    assert.equal(res.timedOut, true);
    assert.equal(res.exitCode, null);
    assert.equal(res.signal, 'SIGTERM');
    const [entry] = logLines(t.dir);
    assert.ok(await processGone(entry!.pid), 'codex process still alive');
    assert.ok(await processGone(entry!.grandchild_pid), 'grandchild still alive (orphan)');
    assert.throws(() => codexRunOutput(res, 700), (e: unknown) => e instanceof AppError && e.message === 'codex cli timed out after 1s and was stopped');
  } finally {
    t.cleanup();
  }
});

test('a child that ignores SIGTERM is killed with SIGKILL after the grace period', async () => {
  const t = tempDir();
  try {
    const res = await runCodexProcess({ bin: FAKE_CODEX, args: ['exec', '-'], stdin: 'p', env: fakeEnv(t.dir, { mode: 'hang-stubborn' }), timeoutMs: 500 });
    assert.equal(res.timedOut, true);
    assert.equal(res.signal, 'SIGKILL');
    assert.ok(await processGone(logLines(t.dir)[0]!.pid));
  } finally {
    t.cleanup();
  }
});

test('abort stops the child', async () => {
  const t = tempDir();
  try {
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(), 300);
    const res = await runCodexProcess({ bin: FAKE_CODEX, args: ['exec', '-'], stdin: 'p', env: fakeEnv(t.dir, { mode: 'hang' }), timeoutMs: 60_000, signal: ctrl.signal });
    assert.equal(res.timedOut, false);
    assert.equal(res.signal, 'SIGTERM');
    assert.throws(() => codexRunOutput(res, 60_000, true), /aborted/);
    assert.ok(await processGone(logLines(t.dir)[0]!.pid));
    const pre = await runCodexProcess({ bin: FAKE_CODEX, args: [], env: {}, timeoutMs: 1000, signal: ctrl.signal });
    assert.equal(pre.exitCode, null, 'an already aborted signal spawns nothing');
  } finally {
    t.cleanup();
  }
});

test('non-zero exit: code and cleaned stderr in the error; --json failures give their message', async () => {
  const t = tempDir();
  try {
    const res = await runCodexProcess({ bin: FAKE_CODEX, args: ['exec', '-'], stdin: 'p', env: fakeEnv(t.dir, { mode: 'fail' }), timeoutMs: 10_000 });
    assert.equal(res.exitCode, 1);
    assert.throws(() => codexRunOutput(res, 10_000), /^AppError: codex cli exited with code 1: fake codex: model refused$/);
    const dirty = { ...res, stderr: 'bad\u001b[31m red\u0007\ttab\nline2\u0000' };
    assert.throws(() => codexRunOutput(dirty, 10_000), (e: unknown) => e instanceof Error && e.message === 'codex cli exited with code 1: bad[31m red\ttab\nline2');
    assert.throws(() => codexRunOutput({ ...res, stderr: '', stdout: '' }, 10_000), (e: unknown) => e instanceof Error && e.message === 'codex cli exited with code 1');
    assert.throws(() => codexRunOutput({ ...res, exitCode: null, signal: 'SIGSEGV', stderr: '' }, 10_000), /exited with code -1/);
    const json = await runCodexProcess({ bin: FAKE_CODEX, args: ['exec', '--json', '-'], stdin: 'p', env: fakeEnv(t.dir, { mode: 'json-fail' }), timeoutMs: 10_000 });
    assert.throws(() => codexRunOutput(json, 10_000), /^AppError: codex cli exited with code 1: unexpected status 401 Unauthorized: injected failure$/);
    const okJson = await runCodexProcess({ bin: FAKE_CODEX, args: ['exec', '--json', '-'], stdin: 'p', env: fakeEnv(t.dir, { mode: 'json', reply: 'json answer' }), timeoutMs: 10_000 });
    assert.equal(codexRunOutput(okJson, 10_000), 'json answer');
  } finally {
    t.cleanup();
  }
});

test('a missing or non-executable binary rejects with codex_spawn and the install hint', async () => {
  const t = tempDir();
  try {
    await assert.rejects(runCodexProcess({ bin: join(t.dir, 'no-such-codex'), args: [], env: {}, timeoutMs: 1000 }), (e: unknown) => {
      assert.ok(e instanceof AppError);
      assert.equal(e.code, 'codex_spawn');
      assert.match(e.message, /failed to execute codex cli command '.*no-such-codex': not found \(ENOENT\)/);
      assert.match(e.hint ?? '', /npm install -g @openai\/codex/);
      assert.match(e.hint ?? '', /codex login/);
      assert.match(e.hint ?? '', /RUSTY_PINCH_PROVIDER=local/);
      return true;
    });
    const notExec = join(t.dir, 'codex');
    writeFileSync(notExec, '#!/bin/sh\necho hi\n');
    chmodSync(notExec, 0o644);
    await assert.rejects(runCodexProcess({ bin: notExec, args: [], env: {}, timeoutMs: 1000 }), (e: unknown) => e instanceof AppError && e.code === 'codex_spawn' && /EACCES/.test(e.message));
    await assert.rejects(runCodexProcess({ bin: 'definitely-not-a-codex-binary-xyz', args: [], env: { PATH: t.dir }, timeoutMs: 1000 }), (e: unknown) => e instanceof AppError && e.code === 'codex_spawn');
  } finally {
    t.cleanup();
  }
});

test('huge output is capped', async () => {
  const res = await runCodexProcess({ bin: process.execPath, args: ['-e', `process.stdout.write('x'.repeat(${MAX_STDOUT_BYTES + 100_000})); process.stderr.write('e'.repeat(600000) + 'END')`], env: codexChildEnv(process.env, {}), timeoutMs: 20_000 });
  assert.equal(res.exitCode, 0);
  assert.ok(res.stdout.length <= MAX_STDOUT_BYTES + 50, String(res.stdout.length));
  assert.match(res.stdout, /\[output truncated\]$/);
  assert.ok(res.stderr.length < 300_000);
  assert.match(res.stderr, /END$/, 'stderr keeps its tail');
});
