#!/usr/bin/env node
// Fake `codex` executable for tests. Behaviour is chosen by environment variables:
//   FAKE_CODEX_MODE = answer (default) | fail | hang | not-logged-in | echo-env | slow
//                   | json (JSONL events, `codex exec --json` style) | json-fail (error + turn.failed, exit 1)
//                   | hang-tree (hangs with a sleeping grandchild in its process group)
//                   | hang-stubborn (hangs and ignores SIGTERM; only SIGKILL stops it)
//                   | rate-limit (runs fail with a 429 "Too Many Requests" message, exit 1;
//                     `--version` and `login status` succeed)
//                   | fail-exec (`--version` and `login status` answer; `exec` fails like `fail`)
//                   | unauthorized (exec fails like a real 401) | usage-limit (exec fails like a real
//                     ChatGPT usage limit) | old-cli (exec refuses `--json` as the real CLI's clap does)
//                   | device-auth (`login --device-auth` prints a URL and code, then succeeds;
//                     device-auth-wait: waits forever; other modes: the code expires at once, exit 1)
//   Like the real CLI: with `--json` in argv, exec prints JSONL events on stdout (failures as
//   `error` + `turn.failed` events); `login --with-api-key` reads the key from stdin into
//   `$CODEX_HOME/auth.json`; with FAKE_CODEX_REQUIRE_AUTH (file: require_auth) `login status`
//   and exec need that auth.json (else "Not logged in" / a 401).
//   FAKE_CODEX_REPLY = text to print for `answer` (default: "fake codex saw: <prompt>")
//   FAKE_CODEX_SCRIPT = JSON file holding an array of replies: invocation n prints reply n
//                       (the last one repeats); the counter lives in `<file>.count`
//   FAKE_CODEX_LOG = file to append one JSON line per invocation {argv, stdin, env keys, pid}
//   FAKE_CODEX_DELAY_MS = delay before answering (slow mode, default 300)
// A runner that passes only a minimal env to its child (no FAKE_CODEX_*) can give the same
// settings in `$CODEX_HOME/fake-codex.json` as {mode, reply, script, log, delay_ms, show_env};
// environment variables win over the file.
// `--version` prints `codex-cli 0.0.0-fake`; `login status` answers by mode.
import { appendFileSync, readSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

let fileConfig = {};
if (process.env.CODEX_HOME) {
  try {
    fileConfig = JSON.parse(readFileSync(join(process.env.CODEX_HOME, 'fake-codex.json'), 'utf8'));
  } catch {
    fileConfig = {};
  }
}
const opt = (envName, key) => process.env[envName] ?? (fileConfig[key] === undefined ? undefined : String(fileConfig[key]));

const argv = process.argv.slice(2);
const mode = opt('FAKE_CODEX_MODE', 'mode') ?? 'answer';
const logFile = opt('FAKE_CODEX_LOG', 'log');
const showEnv = opt('FAKE_CODEX_SHOW_ENV', 'show_env');
const requireAuth = opt('FAKE_CODEX_REQUIRE_AUTH', 'require_auth') === 'true';
const json = argv.includes('--json');
const authFile = process.env.CODEX_HOME ? join(process.env.CODEX_HOME, 'auth.json') : undefined;
function authMode() {
  try {
    return JSON.parse(readFileSync(authFile, 'utf8')).auth_mode ?? null;
  } catch {
    return null;
  }
}
/** A failed exec as the real CLI reports it: events on stdout with --json, text on stderr. */
function failExec(message, code = 1) {
  if (json) {
    process.stdout.write(JSON.stringify({ type: 'thread.started', thread_id: 'fake-thread' }) + '\n');
    process.stdout.write(JSON.stringify({ type: 'error', message }) + '\n');
    process.stdout.write(JSON.stringify({ type: 'turn.failed', error: { message } }) + '\n');
  } else process.stderr.write(`ERROR: ${message}\n`);
  process.exit(code);
}

// Reads all of stdin. A pipe can be non-blocking (EAGAIN before the parent has written), so
// retry with a short pause instead of taking "no data yet" for an empty prompt.
function readStdin() {
  const chunks = [];
  const buf = Buffer.alloc(65536);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let tries = 0; tries < 2000; ) {
    let n;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      if (err.code === 'EAGAIN') {
        tries++;
        Atomics.wait(pause, 0, 0, 5);
        continue;
      }
      if (err.code === 'EOF') break;
      return Buffer.concat(chunks).toString('utf8');
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function log(entry) {
  if (logFile) appendFileSync(logFile, JSON.stringify(entry) + '\n');
}

/** The reply for this invocation: the script's next entry, FAKE_CODEX_REPLY, or an echo. */
function replyFor(prompt) {
  const script = opt('FAKE_CODEX_SCRIPT', 'script');
  if (script) {
    const replies = JSON.parse(readFileSync(script, 'utf8'));
    let n = 0;
    try {
      n = Number(readFileSync(`${script}.count`, 'utf8')) || 0;
    } catch {
      n = 0;
    }
    writeFileSync(`${script}.count`, String(n + 1));
    return replies[Math.min(n, replies.length - 1)];
  }
  return opt('FAKE_CODEX_REPLY', 'reply') ?? `fake codex saw: ${prompt.trim().split('\n').slice(-1)[0]}`;
}

if (argv[0] === '--version') {
  log({ argv, pid: process.pid, env: Object.keys(process.env).sort() });
  if (mode === 'hang') setInterval(() => {}, 1000);
  else if (mode === 'fail') {
    process.stderr.write('fake codex: broken\n');
    process.exit(3);
  } else process.stdout.write('codex-cli 0.0.0-fake\n');
} else if (argv[0] === 'login' && argv[1] === 'status') {
  log({ argv, pid: process.pid, env: Object.keys(process.env).sort(), codex_home: process.env.CODEX_HOME ?? null });
  const auth = authMode();
  if (mode === 'not-logged-in' || (requireAuth && !auth)) {
    process.stderr.write('Not logged in\n');
    process.exit(1);
  }
  process.stderr.write(auth === 'chatgpt' ? 'Logged in using ChatGPT\n' : 'API key configured - sk-fake-***\n');
} else if (argv[0] === 'login' && argv[1] === '--with-api-key') {
  const key = readStdin().trim();
  log({ argv, pid: process.pid, env: Object.keys(process.env).sort(), codex_home: process.env.CODEX_HOME ?? null, stdin: key });
  if (!key) {
    process.stderr.write('No API key provided via stdin\n');
    process.exit(1);
  }
  writeFileSync(authFile, JSON.stringify({ auth_mode: 'apikey', OPENAI_API_KEY: key }), { mode: 0o600 });
  process.stderr.write('Reading API key from stdin...\nAPI key saved.\n');
} else if (argv[0] === 'login' && argv[1] === '--device-auth') {
  log({ argv, pid: process.pid, codex_home: process.env.CODEX_HOME ?? null });
  process.stdout.write('Follow these steps to sign in with ChatGPT using device code authorization:\n1. Open this link in your browser\n   https://auth.example.test/codex/device\n2. Enter this one-time code (expires in 15 minutes)\n   ABCD-EFGHJ\n');
  if (mode === 'device-auth') setTimeout(() => writeFileSync(authFile, JSON.stringify({ auth_mode: 'chatgpt', tokens: { refresh_token: 'rt-fake' } })), 50);
  else if (mode === 'device-auth-wait') setInterval(() => {}, 1000); // nobody approves: only a timeout ends it
  else {
    process.stderr.write('Error logging in with device code: device code expired\n');
    process.exit(1);
  }
} else {
  const stdin = process.stdin.isTTY ? '' : readStdin();
  const promptArg = argv.length && !argv[argv.length - 1].startsWith('-') && argv[argv.length - 1] !== 'exec' ? argv[argv.length - 1] : '';
  const prompt = stdin || promptArg;
  const entry = { argv, stdin, pid: process.pid, env: Object.keys(process.env).sort(), codex_home: process.env.CODEX_HOME ?? null, env_values: showEnv ? Object.fromEntries(showEnv.split(',').map((k) => [k, process.env[k] ?? null])) : undefined };
  if (mode === 'hang-tree') {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    entry.grandchild_pid = child.pid;
  }
  log(entry);
  if (mode === 'old-cli' && json) {
    process.stderr.write("error: unexpected argument '--json' found\n\nUsage: codex exec [OPTIONS] [PROMPT]\n");
    process.exit(2);
  }
  if (requireAuth && !authMode() && !process.env.CODEX_API_KEY) failExec('unexpected status 401 Unauthorized: Missing bearer or basic authentication in header');
  if (mode === 'hang' || mode === 'hang-tree') {
    setInterval(() => {}, 1000);
  } else if (mode === 'hang-stubborn') {
    process.on('SIGTERM', () => {});
    setInterval(() => {}, 1000);
  } else if (mode === 'fail' || mode === 'fail-exec') {
    if (json) failExec('fake codex: model refused');
    process.stderr.write('fake codex: model refused\n');
    process.exit(1);
  } else if (mode === 'not-logged-in') {
    failExec('unexpected status 401 Unauthorized: Missing bearer or basic authentication in header');
  } else if (mode === 'unauthorized') {
    failExec('unexpected status 401 Unauthorized: Incorrect API key provided, url: http://127.0.0.1/v1/responses');
  } else if (mode === 'usage-limit') {
    failExec("You've hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro) or try again at Mar 17th, 2030 5:46 PM.");
  } else if (mode === 'rate-limit') {
    failExec('exceeded retry limit, last status: 429 Too Many Requests');
  } else if (mode === 'json' || (json && (mode === 'answer' || mode === 'slow'))) {
    const events = [
      { type: 'thread.started', thread_id: 'fake-thread' },
      { type: 'turn.started' },
      { type: 'item.completed', item: { id: 'item_0', type: 'agent_message', text: replyFor(prompt) } },
      { type: 'turn.completed', usage: { input_tokens: 1, cached_input_tokens: 0, output_tokens: 1, reasoning_output_tokens: 0 } },
    ];
    const write = () => process.stdout.write(events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    if (mode === 'slow') setTimeout(write, Number(opt('FAKE_CODEX_DELAY_MS', 'delay_ms') ?? 300));
    else write();
  } else if (mode === 'json-fail') {
    process.stdout.write(JSON.stringify({ type: 'error', message: 'unexpected status 401 Unauthorized: injected failure' }) + '\n');
    process.stdout.write(JSON.stringify({ type: 'turn.failed', error: { message: 'unexpected status 401 Unauthorized: injected failure' } }) + '\n');
    process.exit(1);
  } else {
    const answer = () => process.stdout.write(replyFor(prompt) + '\n');
    if (mode === 'slow') setTimeout(answer, Number(opt('FAKE_CODEX_DELAY_MS', 'delay_ms') ?? 300));
    else answer();
  }
}
