#!/usr/bin/env node
// Fake `codex` executable for tests. Behaviour is chosen by environment variables:
//   FAKE_CODEX_MODE = answer (default) | fail | hang | not-logged-in | echo-env | slow
//   FAKE_CODEX_REPLY = text to print for `answer` (default: "fake codex saw: <prompt>")
//   FAKE_CODEX_LOG = file to append one JSON line per invocation {argv, stdin, env keys, pid}
//   FAKE_CODEX_DELAY_MS = delay before answering (slow mode, default 300)
// `--version` prints `codex-cli 0.0.0-fake`; `login status` answers by mode.
import { appendFileSync, readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const mode = process.env.FAKE_CODEX_MODE ?? 'answer';

function readStdin() {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
}

function log(entry) {
  if (process.env.FAKE_CODEX_LOG) appendFileSync(process.env.FAKE_CODEX_LOG, JSON.stringify(entry) + '\n');
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
  if (mode === 'not-logged-in') {
    process.stderr.write('Not logged in\n');
    process.exit(1);
  }
  process.stdout.write('Logged in using an API key\n');
} else {
  const stdin = process.stdin.isTTY ? '' : readStdin();
  const promptArg = argv.length && !argv[argv.length - 1].startsWith('-') && argv[argv.length - 1] !== 'exec' ? argv[argv.length - 1] : '';
  const prompt = stdin || promptArg;
  log({ argv, stdin, pid: process.pid, env: Object.keys(process.env).sort(), codex_home: process.env.CODEX_HOME ?? null, env_values: process.env.FAKE_CODEX_SHOW_ENV ? Object.fromEntries(process.env.FAKE_CODEX_SHOW_ENV.split(',').map((k) => [k, process.env[k] ?? null])) : undefined });
  if (mode === 'hang') {
    setInterval(() => {}, 1000);
  } else if (mode === 'fail') {
    process.stderr.write('fake codex: model refused\n');
    process.exit(1);
  } else if (mode === 'not-logged-in') {
    process.stderr.write('Not logged in\n');
    process.exit(1);
  } else {
    const answer = () => process.stdout.write((process.env.FAKE_CODEX_REPLY ?? `fake codex saw: ${prompt.trim().split('\n').slice(-1)[0]}`) + '\n');
    if (mode === 'slow') setTimeout(answer, Number(process.env.FAKE_CODEX_DELAY_MS ?? 300));
    else answer();
  }
}
