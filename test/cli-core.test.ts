// The CLI as a user runs it: run, repl, session, stats, tools, doctor, help, usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, events, runCli, tempDir, writeEnvFile } from './helpers.js';

test('run → stdout is only the answer, one turn event on stderr, persisted, stats counts it', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const env = cleanEnv(dir);
    const r = await runCli(['run', '--session', 'demo', '--message', 'hello'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "[Rusty Pinch:local:local] Received 'hello'. history=0 messages.\n");
    const turns = events(r.stderr).filter((e) => e.event === 'turn');
    assert.equal(turns.length, 1);
    assert.equal(turns[0]!.path, 'provider');
    assert.equal(turns[0]!.attempts, 0);
    assert.equal(typeof turns[0]!.latency_ms, 'number');
    assert.match(String(turns[0]!.request_id), /^rp-[0-9a-f]+-1$/);
    const s = await runCli(['session', '--session', 'demo'], { env });
    const hist = JSON.parse(s.stdout);
    assert.deepEqual(hist.map((m: { role: string }) => m.role), ['user', 'assistant']);
    assert.deepEqual(Object.keys(hist[0]), ['role', 'content', 'timestamp']);
    const st = JSON.parse((await runCli(['stats'], { env })).stdout);
    assert.deepEqual(Object.keys(st), ['bus', 'last_turn', 'prompt_cache', 'telemetry']);
    assert.equal(st.telemetry.total_turns, 1);
    assert.equal(st.last_turn.path, 'provider');
    assert.equal(st.last_turn.attempts, 0);
    assert.equal(st.prompt_cache.misses, 1);
    assert.ok(st.bus.published >= 2);
    assert.deepEqual(JSON.parse((await runCli(['session', '--session', 'never'], { env })).stdout), []);
  } finally {
    cleanup();
  }
});

test('tool turns work without a provider key and keep the [tool:<name>] prefix', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const env = cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'openai' });
    const r = await runCli(['tools', 'run', '--session', 'k', '--name', 'model_info'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '[tool:model_info]\nprovider=openai\nmodel=gpt-4o-mini\nsession_id=k\n');
    const st = JSON.parse((await runCli(['stats'], { env })).stdout);
    assert.equal(st.last_turn.path, 'tool');
    assert.equal(st.last_turn.tool_name, 'model_info');
    assert.equal(st.last_turn.attempts, null);
    assert.equal(st.last_turn.latency_ms, null);
    const bad = await runCli(['run', '--session', 'k', '--message', '/tool session_tail 5\n6'], { env });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Error: request_id=rp-[0-9a-f-]+: tool args contain control characters/m);
    assert.equal(bad.stdout, '');
    const hist = JSON.parse((await runCli(['session', '--session', 'k'], { env })).stdout);
    assert.equal(hist.length, 2);
    const list = await runCli(['tools', 'list'], { env });
    assert.match(list.stdout, /^model_info - Show current runtime provider\/model info\.\n  usage: \/tool model_info\n/);
  } finally {
    cleanup();
  }
});

test('usage errors exit 2; failures exit 1 with one clear line; help and version exit 0', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const env = cleanEnv(dir);
    const missing = await runCli(['run'], { env });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /required option '--message <text>'/);
    assert.equal((await runCli(['nonsense'], { env })).code, 2);
    assert.equal((await runCli(['run', '--message', 'x', '--bogus'], { env })).code, 2);
    const help = await runCli(['--help'], { env });
    assert.equal(help.code, 0);
    for (const cmd of ['doctor', 'run', 'repl', 'session', 'stats', 'tools']) assert.match(help.stdout, new RegExp(`\\b${cmd}\\b`));
    const runHelp = await runCli(['run', '--help'], { env });
    assert.equal(runHelp.code, 0);
    assert.match(runHelp.stdout, /--session <id>/);
    const v = await runCli(['--version'], { env });
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
    const hostile = await runCli(['run', '--session', '../../etc', '--message', 'x'], { env });
    assert.equal(hostile.code, 2, 'a bad --session is a usage error');
    assert.match(hostile.stderr, /^Error: invalid --session: session id must not contain path separators$/m);
  } finally {
    cleanup();
  }
});

test('strict RUSTY_PINCH_ENV_FILE: missing file is fatal with a clear error', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const r = await runCli(['stats'], { env: cleanEnv(dir, { RUSTY_PINCH_ENV_FILE: join(dir, 'nope.env') }) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: failed loading RUSTY_PINCH_ENV_FILE from .*nope\.env: file not found/m);
    const file = writeEnvFile(dir, ['RUSTY_PINCH_MODEL=from-env-file']);
    const ok = await runCli(['run', '--message', 'x'], { env: cleanEnv(dir, { RUSTY_PINCH_ENV_FILE: file }) });
    assert.match(ok.stdout, /local:from-env-file/);
  } finally {
    cleanup();
  }
});

test('doctor: ok exits 0; warnings exit 0; errors exit 1; --json; the key variable is named, never its value', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const ok = await runCli(['doctor'], { env: cleanEnv(dir) });
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.stdout, /^Rusty Pinch Doctor\nprovider: local\nmodel: local\n/);
    assert.match(ok.stdout, /\nstatus: ok$/m);
    const noArgs = await runCli([], { env: cleanEnv(dir) });
    assert.match(noArgs.stdout, /^Rusty Pinch Doctor/);

    const warn = await runCli(['doctor', '--json'], { env: cleanEnv(dir, { RUSTY_PINCH_REQUEST_RETRIES: 'many' }) });
    assert.equal(warn.code, 0);
    const wj = JSON.parse(warn.stdout);
    assert.equal(wj.status, 'warning');
    assert.match(wj.checks[0].message, /RUSTY_PINCH_REQUEST_RETRIES="many" is invalid .*using 2/);

    const secret = 'sk-test-SECRET-123456789';
    const keyed = await runCli(['doctor', '--json'], { env: cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'openai', OPENAI_API_KEY: secret }) });
    const kj = JSON.parse(keyed.stdout);
    assert.equal(kj.api_key_loaded, true);
    assert.equal(kj.api_key_source, 'OPENAI_API_KEY');
    assert.ok(!keyed.stdout.includes(secret) && !keyed.stderr.includes(secret));

    const bad = await runCli(['doctor'], {
      env: cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'compatible', RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED: 'true', RUSTY_PINCH_CHANNELS_WHATSAPP_ENABLED: 'true' }),
    });
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /status: error/);
    assert.match(bad.stdout, /Provider 'compatible' requires API key but none was found/);
    assert.match(bad.stdout, /Provider 'compatible' requires API base but none was found/);
    assert.match(bad.stdout, /RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN is missing/);
    assert.match(bad.stdout, /RUSTY_PINCH_CHANNELS_WHATSAPP_BRIDGE_URL is missing/);
  } finally {
    cleanup();
  }
});

test('doctor checks the codex CLI only for provider codex: missing, working, hanging', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const missing = await runCli(['doctor', '--json'], { env: cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'codex', RUSTY_PINCH_CODEX_CLI_BIN: 'definitely-not-codex-xyz' }) });
    assert.equal(missing.code, 1);
    const mj = JSON.parse(missing.stdout);
    assert.equal(mj.codex_cli, 'missing');
    assert.match(JSON.stringify(mj.checks), /npm install -g @openai\/codex/);
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'codex'), '#!/bin/sh\necho codex-cli 9.9.9\n');
    chmodSync(join(bin, 'codex'), 0o755);
    const env = cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'codex' });
    env.PATH = `${bin}:${env.PATH}`;
    const good = JSON.parse((await runCli(['doctor', '--json'], { env })).stdout);
    assert.equal(good.codex_cli, 'ok (codex-cli 9.9.9)');
    assert.equal(good.status, 'ok');
    writeFileSync(join(bin, 'codex'), '#!/bin/sh\nsleep 30\n');
    const t0 = Date.now();
    const hung = await runCli(['doctor'], { env, timeoutMs: 20_000 });
    assert.equal(hung.code, 1);
    assert.match(hung.stdout, /did not answer --version: no answer within 5000 ms/);
    assert.ok(Date.now() - t0 < 15_000);
    // Another provider: no codex check at all.
    const other = JSON.parse((await runCli(['doctor', '--json'], { env: { ...env, RUSTY_PINCH_PROVIDER: 'local' } })).stdout);
    assert.equal(other.codex_cli, 'not checked');
  } finally {
    cleanup();
  }
});

test('repl: turns, an error does not end it, exit leaves cleanly; Ctrl-D (EOF) leaves cleanly', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const env = cleanEnv(dir);
    const r = await runCli(['repl', '--session', 'r'], { env, input: 'hi\n\n/tool nope\n/tool time_now\nexit\nnot reached\n' });
    assert.equal(r.code, 0);
    // stdin is a pipe: only the answers on stdout (no banner, no `> ` prompts, no Bye).
    assert.match(r.stdout, /^\[Rusty Pinch:local:local\] Received 'hi'/);
    assert.match(r.stdout, /\[tool:time_now\]/);
    assert.doesNotMatch(r.stdout, /> |Rusty Pinch REPL|Bye\./);
    assert.doesNotMatch(r.stdout, /not reached/);
    assert.match(r.stderr, /Error: request_id=\S+: unknown tool 'nope'/);
    const eof = await runCli(['repl'], { env, input: 'one\n', timeoutMs: 10_000 });
    assert.equal(eof.code, 0);
    assert.match(eof.stdout, /^\[Rusty Pinch:local:local\] Received 'one'.*\n$/);
  } finally {
    cleanup();
  }
});
