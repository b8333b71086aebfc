#!/usr/bin/env node
// Garbage-input probe of the built CLI, as a new user would poke it: every command (found by
// walking `--help`, so it stays true) × an unknown flag, a missing value, and garbage values for
// each of its options. Counts stack traces, wrong exit codes (usage errors must exit 2, failures
// 1, never anything else), hangs, and mixed output (data on stdout plus an `Error:` line).
// Usage: node scripts/probe-cli.mjs [--verbose]   (run `npm run build` first)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'rusty-pinch');
const verbose = process.argv.includes('--verbose');
const dir = mkdtempSync(join(tmpdir(), 'rp-probe-'));
const env = { PATH: process.env.PATH ?? '', HOME: dir, RUSTY_PINCH_PROVIDER: 'local', RUSTY_PINCH_DATA_DIR: join(dir, 'data'), RUSTY_PINCH_WORKSPACE: join(dir, 'workspace'), RUSTY_PINCH_OPS_ADDR: 'off', RUSTY_PINCH_CODEX_ENABLED: 'false' };

function run(args, timeoutMs = 8000) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let hung = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, hung });
    });
    child.stdin.end('');
  });
}

/** Sub-commands and options of `path`, read from its help text. */
async function describe(path) {
  const { stdout } = await run([...path, '--help']);
  const section = (name) => {
    const m = stdout.split(/\n(?=\S)/).find((s) => s.startsWith(name + ':'));
    return m ? m.split('\n').slice(1) : [];
  };
  const commands = section('Commands')
    .map((l) => /^ {2}(\S+)/.exec(l)?.[1])
    .filter((c) => c && c !== 'help');
  const options = section('Options')
    .map((l) => /^ {2}(?:-\w, )?(--[\w-]+)(?: ([<[][^>\]]+[>\]]))?/.exec(l))
    .filter((m) => m && m[1] !== '--help' && m[1] !== '--version')
    .map((m) => ({ flag: m[1], value: m[2] }));
  const args = (/^Usage: \S+(?: \S+)* \[options\]((?: <[^>]+>)*)/m.exec(stdout)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  return { commands, options, args };
}

async function leaves(path = []) {
  const d = await describe(path);
  if (d.commands.length === 0) return [{ path, ...d }];
  const out = [];
  for (const c of d.commands) out.push(...(await leaves([...path, c])));
  return out;
}

const GARBAGE = ['', 'garbage', '-1', '0', '1e309', '../../../etc/passwd', '会话\u202e', 'x'.repeat(5000), '{"a":', '%s%n'];
// Long-running commands: only probed with inputs that must fail before they start.
const LONG = new Set(['serve', 'channels telegram', 'channels whatsapp', 'repl']);
// Valid values for required options, so a case exercises one bad flag at a time.
const VALID = { '--message': 'hi', '--name': 'time', '--prompt': 'hi', '--token': 'pa-1-1', '--id': 'job1', '--url': 'http://127.0.0.1:9/', '--interval-secs': '60', '--description': 'd', '--account': 'a', '--action': 'notify hi' };
const USAGE_TEXT = /unknown option|unknown command|missing required|required option|argument missing|invalid|too many arguments|must not be empty|must be|expected /i;
const STACK = /\n\s+at .+[:(]\d+:\d+\)?|node:internal|TypeError|ReferenceError|RangeError|SyntaxError: /;

const tally = { cases: 0, stack: 0, wrongExit: 0, hung: 0, mixed: 0 };
const bad = [];

function judge(name, args, r, expectUsage) {
  tally.cases++;
  const problems = [];
  if (r.hung) problems.push('hung');
  if (STACK.test(r.stderr) || STACK.test(r.stdout)) problems.push('stack trace');
  const errorLines = r.stderr.split('\n').filter((l) => l.startsWith('Error:') || l.startsWith('error:'));
  if (!r.hung && ![0, 1, 2].includes(r.code)) problems.push(`exit ${r.code}`);
  else if (!r.hung && expectUsage && r.code !== 2) problems.push(`usage error exited ${r.code}`);
  else if (!r.hung && r.code !== 2 && errorLines.some((l) => USAGE_TEXT.test(l) && !/not found|disabled/i.test(l))) problems.push(`usage-looking error exited ${r.code}`);
  else if (!r.hung && r.code !== 0 && errorLines.length === 0) problems.push(`exit ${r.code} without an error line`);
  if (errorLines.length > 0 && r.stdout.trim() !== '') problems.push('stdout data plus an error');
  if (errorLines.length > 1) problems.push(`${errorLines.length} error lines`);
  if (problems.includes('hung')) tally.hung++;
  if (problems.includes('stack trace')) tally.stack++;
  if (problems.some((p) => p.startsWith('usage') || p.startsWith('exit'))) tally.wrongExit++;
  if (problems.some((p) => p.includes('plus an error') || p.includes('error lines'))) tally.mixed++;
  if (problems.length) bad.push(`${name} ${JSON.stringify(args.slice(name.split(' ').length).map((a) => (a.length > 40 ? a.slice(0, 20) + '…' : a)))}: ${problems.join(', ')} (exit ${r.code}) ${(r.stderr.split('\n').find((l) => /^(Error|error):/.test(l)) ?? '').slice(0, 120)}`);
}

const all = await leaves();
for (const leaf of all) {
  const name = leaf.path.join(' ');
  const base = [...leaf.path];
  const positional = leaf.args.map((a) => (a.includes('channel') ? 'telegram' : 'x'));
  const required = [];
  for (const o of leaf.options) if (VALID[o.flag] && o.value?.startsWith('<')) required.push(o.flag, VALID[o.flag]);
  const extra = name === 'monitor' ? ['--once', '--pid', '999999'] : [];
  const cases = [[[...base, ...positional, ...required, ...extra, '--bogus'], true]];
  cases.push([[...base, ...positional, ...required, ...extra, 'stray-arg'], true]);
  for (const o of leaf.options) {
    if (!o.value) continue;
    if (o.value.startsWith('<')) cases.push([[...base, ...positional, ...required.filter((_, i, a) => a[i] !== o.flag && a[i - 1] !== o.flag), ...extra, o.flag], true]);
    if (LONG.has(name)) continue;
    for (const g of GARBAGE) {
      const rest = required.filter((_, i, a) => a[i] !== o.flag && a[i - 1] !== o.flag);
      const monitorExtra = name === 'monitor' && o.flag === '--pid' ? ['--once'] : extra;
      cases.push([[...base, ...positional, ...rest, ...monitorExtra, o.flag, g], false]);
    }
  }
  for (const [args, expectUsage] of cases) judge(name, args, await run(args), expectUsage);
}
// The known-bad inputs the issue names.
const named = [
  [['run', '--message', ''], true],
  [['run', '--message', '   '], true],
  [['run', '--session', '', '--message', 'hi'], true],
  [['session', '--session', ''], true],
  [['tools', 'run', '--name', 'no-such-tool'], true],
  [['run', '--bogus'], true],
];
for (const [args, expectUsage] of named) {
  const r = await run(args);
  judge(args[0], args, r, expectUsage);
  if (args[1] === '--bogus' && !/unknown option/.test(r.stderr)) {
    tally.wrongExit++;
    bad.push(`run --bogus: reports "${r.stderr.split('\n')[0]}" instead of the unknown option`);
  }
}
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ commands: all.length, ...tally }));
if (verbose) for (const b of bad) console.log(b);
