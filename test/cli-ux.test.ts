// The CLI as a new user finds it (issue 13 items 14–16): exit codes, --json everywhere,
// readable views and colour on a terminal (driven through a real pty), --quiet and
// RUSTY_PINCH_LOG_LEVEL, shell completion from the command tree, stable Pulse due times, and
// the first-run notice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, FAKE_CODEX, cleanEnv, events, runCli, tempDir } from './helpers.js';

const hasPython = spawnSync('python3', ['-c', 'import pty'], { stdio: 'ignore' }).status === 0;

// Runs the CLI on a pseudo-terminal (stdin, stdout and stderr all a tty); returns everything
// it wrote and its exit code. `input` is typed after the first output appears.
const PTY = String.raw`
import json, os, pty, select, sys, time
node, cli, args, inp, out_file = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], sys.argv[5]
pid, fd = pty.fork()
if pid == 0:
    if out_file:
        os.dup2(os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
    os.execv(node, [node, cli] + args)
buf = b''
sent = False
end = time.time() + 20
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.05)
    if r:
        try:
            d = os.read(fd, 65536)
        except OSError:
            break
        if not d:
            break
        buf += d
        if inp and not sent:
            sent = True
            os.write(fd, inp.encode())
_, st = os.waitpid(pid, 0)
print(json.dumps({'exit': os.WEXITSTATUS(st) if os.WIFEXITED(st) else -1, 'out': buf.decode('utf-8', 'replace')}))
`;

/** `stdoutFile`: stdout goes to this file instead (stdin and stderr stay on the terminal). */
function onTty(args: string[], env: Record<string, string>, input = '', stdoutFile = ''): { exit: number; out: string } {
  const r = spawnSync('python3', ['-c', PTY, process.execPath, CLI, JSON.stringify(args), input, stdoutFile], { env, cwd: env.RUSTY_PINCH_DATA_DIR!.replace(/\/data$/, ''), encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { exit: number; out: string };
}

test('exit codes: unknown option before missing required, blank message, bad session, unknown tool; nothing recorded', async () => {
  const { dir, cleanup } = tempDir('rp-ux-exit-');
  try {
    const env = cleanEnv(dir);
    const bogus = await runCli(['run', '--bogus'], { env });
    assert.equal(bogus.code, 2);
    assert.match(bogus.stderr, /unknown option '--bogus'/);
    assert.doesNotMatch(bogus.stderr, /--message/);
    const missing = await runCli(['run'], { env });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /required option '--message <text>' not specified/);
    for (const m of ['', '   ']) {
      const r = await runCli(['run', '--message', m], { env });
      assert.equal(r.code, 2, `--message ${JSON.stringify(m)}`);
      assert.match(r.stderr, /--message <text>' argument .* is invalid\. must not be empty/);
    }
    for (const s of ['', '../x', 'a\u0007b', ' padded ']) {
      const r = await runCli(['run', '--session', s, '--message', 'hi'], { env });
      assert.equal(r.code, 2, `--session ${JSON.stringify(s)}: ${r.stderr}`);
      assert.match(r.stderr, /^Error: invalid --session: session id /m);
      assert.equal((await runCli(['session', '--session', s], { env })).code, 2);
    }
    for (const args of [['pulse', 'ooda', '--action', ''], ['pulse', 'goal', 'add', '--id', 'g', '--description', ' ']]) {
      const r = await runCli(args, { env });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /must not be empty|description is empty/);
    }
    const unknown = await runCli(['tools', 'run', '--name', 'no-such-tool'], { env });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^Error: unknown tool 'no-such-tool'\. available: .*time_now/m);
    const malformed = await runCli(['tools', 'run', '--name', 'Bad/Name'], { env });
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /^Error: invalid tool name 'Bad\/Name'\. allowed chars/m);
    // None of these ran a turn: no session file, no turn counted.
    assert.ok(!existsSync(join(dir, 'data', 'sessions', 'default.jsonl')));
    const stats = JSON.parse((await runCli(['stats'], { env })).stdout);
    assert.equal(stats.telemetry.total_turns ?? 0, 0);
  } finally {
    cleanup();
  }
});

test('codex healthcheck exits 1 when no account is healthy, 0 when one is', async () => {
  const { dir, cleanup } = tempDir('rp-ux-codex-');
  try {
    const env = cleanEnv(dir, { RUSTY_PINCH_CODEX_CLI_BIN: FAKE_CODEX, RUSTY_PINCH_CODEX_ACCOUNTS: 'a1||4' });
    const home = join(dir, 'workspace', 'codex-homes', 'a1');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'fake-codex.json'), JSON.stringify({ mode: 'not-logged-in' }));
    const sick = await runCli(['codex', 'healthcheck'], { env });
    assert.equal(sick.code, 1, sick.stderr);
    assert.equal(JSON.parse(sick.stdout).checks[0].healthy, false);
    writeFileSync(join(home, 'fake-codex.json'), '{}');
    const well = await runCli(['codex', 'healthcheck'], { env });
    assert.equal(well.code, 0, well.stderr);
    assert.equal(JSON.parse(well.stdout).checks[0].healthy, true);
  } finally {
    cleanup();
  }
});

test('--json on every data command; piped output keeps the JSON contract; tools list text stays the default', async () => {
  const { dir, cleanup } = tempDir('rp-ux-json-');
  try {
    const env = cleanEnv(dir, { RUSTY_PINCH_CODEX_ENABLED: 'false' });
    const tools = await runCli(['tools', 'list', '--json'], { env });
    assert.equal(tools.code, 0, tools.stderr);
    const list = JSON.parse(tools.stdout) as Array<Record<string, string>>;
    assert.ok(list.some((t) => t.name === 'time_now'));
    for (const t of list) assert.deepEqual(Object.keys(t), ['name', 'description', 'usage']);
    assert.match((await runCli(['tools', 'list'], { env })).stdout, /^\w+ - .*\n {2}usage: /);
    // run: the answer as text by default (piped too), the turn's ids with --json.
    assert.match((await runCli(['run', '--message', 'hi'], { env })).stdout, /^\[Rusty Pinch:local:local\] Received 'hi'/);
    const turn = JSON.parse((await runCli(['run', '--session', 's1', '--message', 'hi', '--json'], { env })).stdout);
    assert.deepEqual(Object.keys(turn), ['response', 'request_id', 'session_id', 'path', 'deferred']);
    assert.match(turn.request_id, /^rp-/);
    assert.equal(turn.session_id, 's1');
    assert.equal(JSON.parse((await runCli(['tools', 'run', '--name', 'time_now', '--json'], { env })).stdout).path, 'tool');
    for (const args of [['stats'], ['session'], ['skills', 'list'], ['pulse', 'status'], ['pulse', 'job', 'list'], ['pulse', 'goal', 'list'], ['pairing', 'list'], ['doctor'], ['skills', 'dry-run', '--name', 'weather']]) {
      const r = await runCli([...args, '--json'], { env });
      assert.ok(r.code === 0, `${args.join(' ')} --json: ${r.stderr}`);
      assert.doesNotThrow(() => JSON.parse(r.stdout), `${args.join(' ')} --json prints JSON`);
      // Piped without --json: the same JSON document (timestamps may move between runs).
      if (args[0] !== 'doctor') assert.deepEqual(Object.keys(JSON.parse((await runCli(args, { env })).stdout)), Object.keys(JSON.parse(r.stdout)), `${args.join(' ')} piped = --json`);
    }
    // Every leaf command that prints data has the flag (the tree, read from --help).
    for (const path of [['stats'], ['session'], ['tools', 'list'], ['skills', 'list'], ['pulse', 'status'], ['pulse', 'tick'], ['pulse', 'job', 'list'], ['codex', 'status'], ['pairing', 'list'], ['monitor']]) {
      assert.match((await runCli([...path, '--help'], { env })).stdout, /--json/, path.join(' '));
    }
  } finally {
    cleanup();
  }
});

test('--quiet and RUSTY_PINCH_LOG_LEVEL quiet the stderr event lines; a garbage level is reported by doctor', async () => {
  const { dir, cleanup } = tempDir('rp-ux-quiet-');
  try {
    const env = cleanEnv(dir);
    const loud = await runCli(['run', '--message', 'a'], { env });
    assert.ok(events(loud.stderr).some((e) => e.event === 'turn'));
    for (const [args, extra] of [
      [['--quiet', 'run', '--message', 'b'], {}],
      [['run', '-q', '--message', 'c'], {}],
      [['run', '--message', 'd'], { RUSTY_PINCH_LOG_LEVEL: 'error' }],
      [['run', '--message', 'e'], { RUSTY_PINCH_LOG_LEVEL: ' OFF ' }],
    ] as Array<[string[], Record<string, string>]>) {
      const r = await runCli(args, { env: { ...env, ...extra } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Received/);
      assert.equal(r.stderr, '', `${args.join(' ')} ${JSON.stringify(extra)}`);
    }
    // From the .env file too.
    writeFileSync(join(dir, '.env'), 'RUSTY_PINCH_LOG_LEVEL=warn\n');
    assert.equal((await runCli(['run', '--message', 'f'], { env })).stderr, '');
    writeFileSync(join(dir, '.env'), 'RUSTY_PINCH_LOG_LEVEL=chatty\n');
    const garbage = await runCli(['run', '--message', 'g'], { env });
    assert.ok(events(garbage.stderr).some((e) => e.event === 'turn'), 'a garbage level keeps the default');
    const doc = JSON.parse((await runCli(['doctor', '--json'], { env })).stdout);
    assert.match(JSON.stringify(doc), /RUSTY_PINCH_LOG_LEVEL/);
    // Errors still reach the user, and a failed turn's event line stays at --quiet.
    const failing = await runCli(['--quiet', 'tools', 'run', '--name', 'nope'], { env });
    assert.match(failing.stderr, /^Error: unknown tool/m);
    const failedTurn = await runCli(['--quiet', 'run', '--message', 'hi'], { env: { ...env, RUSTY_PINCH_PROVIDER: 'openai', RUSTY_PINCH_API_BASE: 'http://127.0.0.1:9/v1', OPENAI_API_KEY: 'k', RUSTY_PINCH_REQUEST_RETRIES: '0' } });
    assert.equal(failedTurn.code, 1);
    assert.deepEqual(events(failedTurn.stderr).map((e) => [e.event, e.status]), [['turn', 'error']]);
  } finally {
    cleanup();
  }
});

test('completion: bash completes commands, nested commands and flags from the tree; zsh and fish name every command', async () => {
  const { dir, cleanup } = tempDir('rp-ux-compl-');
  try {
    const env = cleanEnv(dir);
    const bash = await runCli(['completion', 'bash'], { env });
    assert.equal(bash.code, 0, bash.stderr);
    writeFileSync(join(dir, 'c.bash'), bash.stdout);
    const probe = String.raw`source "$1"; shift
for line in "$@"; do read -ra COMP_WORDS <<< "$line"; [[ "$line" == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((${'$'}{#COMP_WORDS[@]}-1)); _rusty_pinch; echo "${'$'}{COMPREPLY[*]}"; done`;
    const lines = ['rusty-pinch p', 'rusty-pinch pulse j', 'rusty-pinch pulse job ', 'rusty-pinch pulse job list --j', 'rusty-pinch -q run --s', 'rusty-pinch pairing approve ', 'rusty-pinch completion '];
    const r = spawnSync('bash', ['-c', probe, 'probe', join(dir, 'c.bash'), ...lines], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['pulse pairing', 'job', 'list add-http-healthcheck add-skill-generation remove enable disable --quiet --help', '--json', '--session', 'telegram whatsapp --json --quiet --help', 'bash zsh fish --quiet --help']);
    const zsh = (await runCli(['completion', 'zsh'], { env })).stdout;
    const fish = (await runCli(['completion', 'fish'], { env })).stdout;
    assert.match(zsh, /^#compdef rusty-pinch/);
    for (const path of ['pulse job add-http-healthcheck', 'codex drain-one', 'pairing revoke', 'channels whatsapp']) {
      assert.ok(zsh.includes(`'${path}'`), `zsh: ${path}`);
      assert.ok(fish.includes(`'rp ${path}'`), `fish: ${path}`);
    }
    assert.match(fish, /-l max-messages -r -d/);
    const bad = await runCli(['completion', 'powershell'], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Allowed choices are bash, zsh, fish/);
  } finally {
    cleanup();
  }
});

test('pulse status and job list show the same next_due_at on every look (defaults written once)', async () => {
  const { dir, cleanup } = tempDir('rp-ux-due-');
  try {
    const env = cleanEnv(dir, { RUSTY_PINCH_CODEX_ENABLED: 'false' });
    const first = JSON.parse((await runCli(['pulse', 'status'], { env })).stdout);
    const state = join(dir, 'workspace', 'pulse', 'state.json');
    const written = statSync(state).mtimeMs;
    await new Promise((r) => setTimeout(r, 20)); // so a recomputed due time would differ
    const second = JSON.parse((await runCli(['pulse', 'status'], { env })).stdout);
    const list = JSON.parse((await runCli(['pulse', 'job', 'list'], { env })).stdout);
    const due = (jobs: Array<{ id: string; next_due_at: string }>) => jobs.map((j) => `${j.id}@${j.next_due_at}`);
    assert.ok(first.jobs.length > 0);
    assert.deepEqual(due(second.jobs), due(first.jobs));
    assert.deepEqual(due(list.jobs), due(first.jobs));
    assert.equal(statSync(state).mtimeMs, written, 'later looks do not rewrite the state');
  } finally {
    cleanup();
  }
});

test('first run says where it created ./data and ./workspace, once', async () => {
  const { dir, cleanup } = tempDir('rp-ux-first-');
  try {
    const env = cleanEnv(dir, { RUSTY_PINCH_DATA_DIR: undefined, RUSTY_PINCH_WORKSPACE: undefined });
    const first = await runCli(['run', '--message', 'hi'], { env, cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    const notes = events(first.stderr).filter((e) => e.event === 'first_run');
    assert.equal(notes.length, 1);
    assert.equal(notes[0]!.data_dir, join(dir, 'data'));
    assert.equal(notes[0]!.workspace, join(dir, 'workspace'));
    assert.match(String(notes[0]!.message), /\.\/data .*\.\/workspace .*RUSTY_PINCH_DATA_DIR/);
    const again = await runCli(['run', '--message', 'hi'], { env, cwd: dir });
    assert.equal(events(again.stderr).filter((e) => e.event === 'first_run').length, 0);
  } finally {
    cleanup();
  }
});

test('on a terminal: readable views with colour, NO_COLOR honoured, REPL prompts; piped: none of it', { skip: !hasPython && 'python3 with pty is needed' }, async () => {
  const { dir, cleanup } = tempDir('rp-ux-tty-');
  try {
    const env = cleanEnv(dir, { RUSTY_PINCH_CODEX_ENABLED: 'false', TERM: 'xterm', NO_COLOR: undefined, FORCE_COLOR: undefined });
    const first = onTty(['run', '--message', 'hello'], env);
    assert.equal(first.exit, 0, first.out);
    assert.match(first.out, /note: first run: created data in \.\/data \(.*\) and workspace in \.\/workspace/);
    assert.ok(!first.out.includes('{"event":"first_run"'), 'a sentence for a person, not an event line');
    const stats = onTty(['stats'], env);
    assert.equal(stats.exit, 0, stats.out);
    assert.match(stats.out, /turns\s+.*1 total · 1 ok · 0 errors/);
    assert.match(stats.out, /last turn .*local\/local/);
    assert.ok(!stats.out.includes('"telemetry"'), 'not JSON on a terminal');
    assert.ok(stats.out.includes('\x1b[1m'), 'bold labels');
    const plain = onTty(['stats'], { ...env, NO_COLOR: '1' });
    assert.ok(!plain.out.includes('\x1b['), 'NO_COLOR: no escape codes');
    assert.match(plain.out, /turns/);
    const json = onTty(['stats', '--json', '--quiet'], env);
    assert.equal(JSON.parse(json.out).telemetry.total_turns, 1);
    const pulse = onTty(['pulse', 'status'], { ...env, NO_COLOR: '1' });
    assert.match(pulse.out, /jobs:\r?\n\s+ID\s+ENABLED\s+EVERY\s+ACTION\s+NEXT_DUE_AT/);
    assert.match(pulse.out, /runtime-heartbeat\s+true\s+60s\s+log "pulse heartbeat"/);
    const skills = onTty(['skills', 'list'], { ...env, NO_COLOR: '1' });
    assert.match(skills.out, /NAME\s+SIZE\s+MODIFIED\s+DESCRIPTION/);
    assert.match(skills.out, /skills dir: /);
    const err = onTty(['tools', 'run', '--name', 'nope'], env);
    assert.equal(err.exit, 2);
    assert.ok(err.out.includes('\x1b[31mError:\x1b[39m'), 'red Error: on a terminal');
    const repl = onTty(['repl'], { ...env, NO_COLOR: '1' }, 'hi\nexit\n');
    assert.equal(repl.exit, 0, repl.out);
    assert.match(repl.out, /Rusty Pinch REPL\. Type 'exit' to stop\./);
    assert.match(repl.out, /> /);
    assert.match(repl.out, /Bye\./);
    // `repl > file` at a terminal: prompts stay on the terminal (stderr), the file gets answers only.
    const file = join(dir, 'answers.txt');
    const tee = onTty(['repl'], { ...env, NO_COLOR: '1' }, 'hi\nexit\n', file);
    assert.equal(tee.exit, 0, tee.out);
    assert.match(tee.out, /> /);
    assert.match(readFileSync(file, 'utf8'), /^\[Rusty Pinch:local:local\] Received 'hi'.*\n$/);
    // FORCE_COLOR colours a pipe; without it a pipe gets none.
    const forced = await runCli(['tools', 'run', '--name', 'nope'], { env: { ...env, FORCE_COLOR: '1' } });
    assert.ok(forced.stderr.includes('\x1b[31mError:'));
    const piped = await runCli(['tools', 'run', '--name', 'nope'], { env });
    assert.ok(!piped.stderr.includes('\x1b['));
  } finally {
    cleanup();
  }
});

test('readable renderer, colour rules and event levels (unit)', async () => {
  const { renderReadable } = await import('../src/cli/readable.js');
  const { colourEnabled } = await import('../src/cli/style.js');
  const { eventLevel, parseLogLevel } = await import('../src/observe/index.js');
  const text = renderReadable({ status: 'ok', jobs: [{ id: 'a', every: 5 }, { id: 'bb', every: null }], goals: [], nested: { x: 1 } });
  assert.equal(text, 'status: ok\njobs:\n  ID  EVERY\n  a   5\n  bb  -\ngoals: (none)\nnested:\n  x: 1');
  assert.equal(renderReadable({ s: 'a\u001b[31mb' }), 's: a [31mb', 'control characters are not passed to the terminal');
  assert.equal(colourEnabled({ isTTY: true }, {}), true);
  assert.equal(colourEnabled({ isTTY: false }, {}), false);
  assert.equal(colourEnabled({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(colourEnabled({ isTTY: true }, { NO_COLOR: '' }), true, 'an empty NO_COLOR does not count');
  assert.equal(colourEnabled({ isTTY: true }, { TERM: 'dumb' }), false);
  assert.equal(colourEnabled({ isTTY: false }, { FORCE_COLOR: '1' }), true);
  assert.equal(colourEnabled({ isTTY: true }, { FORCE_COLOR: '0' }), false);
  assert.equal(eventLevel('channel_send_error'), 'error');
  assert.equal(eventLevel('serve_channel_failed'), 'error');
  assert.equal(eventLevel('warning'), 'warn');
  assert.equal(eventLevel('channel_message_dropped'), 'warn');
  assert.equal(eventLevel('provider_retry'), 'warn');
  assert.equal(eventLevel('turn'), 'info');
  assert.equal(eventLevel('turn', { status: 'ok' }), 'info');
  assert.equal(eventLevel('turn', { status: 'error' }), 'error', 'a failed turn is an error');
  assert.equal(parseLogLevel(' Warn '), 'warn');
  assert.equal(parseLogLevel('loud'), undefined);
  assert.ok(readFileSync(join(import.meta.dirname, '..', '.env.example'), 'utf8').includes('RUSTY_PINCH_LOG_LEVEL=info'));
});
