// `rusty-pinch monitor` as a user runs it: --once text and --json against a real repl process
// (cpu% is a number, not n/a), discovery by name, missing process, bad flags, and the live
// view stopped by SIGINT/SIGTERM with the terminal restored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, cleanEnv, runCli, tempDir } from './helpers.js';
import { start, startDecoy, startRepl, writeFakeBin, type Spawned } from './monitor-fixtures.js';
import { ENTER_SCREEN, LEAVE_SCREEN } from '../src/monitor/live.js';

test('monitor --once / --once --json on a real rusty-pinch repl', async () => {
  const { dir, cleanup } = tempDir('rp-moncli-');
  let repl: Spawned | undefined;
  try {
    repl = await startRepl(dir);
    const env = cleanEnv(dir);
    const text = await runCli(['monitor', '--once', '--pid', String(repl.pid)], { env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`pid: ${repl.pid} \\(given with --pid\\)`));
    assert.match(text.stdout, /command: node rusty-pinch repl/);
    assert.match(text.stdout, /cpu: \d+\.\d\d% \| rss: [\d.]+ (KiB|MiB|GiB) \| vms: /);
    assert.match(text.stdout, /io: read=.* fd_count=\d+ \| threads=\d+ \| uptime=\d+/);
    assert.match(text.stdout, /\[HOST\]\nloadavg: [\d.]+ [\d.]+ [\d.]+ \| cpu_cores: \d+/);
    assert.match(text.stdout, /filesystem: used=.* use%=\d+%/);
    assert.match(text.stdout, /telemetry: unavailable/);
    assert.ok(!text.stdout.includes('\x1b['), '--once prints no escape codes');

    // Telemetry present → counters; --json → numbers.
    mkdirSync(join(dir, 'data', 'telemetry'), { recursive: true });
    writeFileSync(join(dir, 'data', 'telemetry', 'latest.json'), JSON.stringify({ schema_version: 1, updated_at: 'u', total_turns: 3, ok_turns: 2, error_turns: 1, last_turn: { request_id: 'rp-9', path: 'provider', status: 'error', session_id: 'cli' } }));
    const js = await runCli(['monitor', '--once', '--json', '--pid', String(repl.pid)], { env });
    assert.equal(js.code, 0, js.stderr);
    const snap = JSON.parse(js.stdout);
    assert.equal(snap.process.pid, repl.pid);
    assert.equal(typeof snap.process.cpu_percent, 'number');
    assert.ok(snap.process.rss_bytes > 1024 * 1024);
    assert.equal(typeof snap.process.fd_count, 'number');
    assert.equal(typeof snap.process.threads, 'number');
    assert.equal(typeof snap.process.uptime_secs, 'number');
    assert.ok(snap.host.cpu_cores >= 1);
    assert.equal(snap.host.loadavg.length, 3);
    assert.ok(snap.host.memory.total_bytes > 0);
    assert.ok(snap.storage.filesystem.total_bytes > 0);
    assert.equal(snap.storage.data_dir, join(dir, 'data'));
    assert.ok(snap.storage.data_dir_bytes > 0);
    assert.equal(snap.app.telemetry.status, 'ok');
    assert.equal(snap.app.telemetry.total_turns, 3);
    assert.equal(snap.app.telemetry.last_turn.request_id, 'rp-9');
    assert.equal(snap.history, undefined);

    // Discovery (default match): the repl is a candidate; the monitor itself never is.
    const found = await runCli(['monitor', '--once', '--json'], { env });
    const f = JSON.parse(found.stdout);
    assert.equal(found.code, 0, found.stderr);
    assert.ok(f.process.candidates.some((c: { pid: number }) => c.pid === repl!.pid));
    assert.ok(f.process.candidates.every((c: { label: string }) => !c.label.endsWith(' monitor')));
  } finally {
    repl?.kill();
    cleanup();
  }
});

test('monitor --once --process-match picks the named executable, not decoys; redacts arguments', async () => {
  const { dir, cleanup } = tempDir('rp-monmatch-');
  const procs: Spawned[] = [];
  try {
    const name = `rp-mon-${process.pid}`;
    const bin = writeFakeBin(dir, name);
    procs.push(await start(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', name]));
    procs.push(await start(process.execPath, [bin, 'repl']));
    const target = await start(process.execPath, [bin, 'serve', '--token', 'sk-SECRET-77']);
    procs.push(target);
    const r = await runCli(['monitor', '--once', '--process-match', name], { env: cleanEnv(dir) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`pid: ${target.pid} \\(oldest 'serve' process of 2 matching processes\\)`));
    assert.match(r.stdout, new RegExp(`command: node ${name} serve\\n`));
    assert.ok(!r.stdout.includes('SECRET'), 'arguments beyond the subcommand are not printed');
    assert.doesNotMatch(r.stdout, /cpu: n\/a/);
  } finally {
    for (const p of procs) p.kill();
    cleanup();
  }
});

test('monitor --once: missing process → clear message, exit 1; bad flags → exit 2', async () => {
  const { dir, cleanup } = tempDir('rp-monmiss-');
  let decoy: Spawned | undefined;
  try {
    decoy = await startDecoy();
    const env = cleanEnv(dir);
    const miss = await runCli(['monitor', '--once', '--process-match', `no-such-${process.pid}`], { env });
    assert.equal(miss.code, 1);
    assert.match(miss.stderr, /Error: no process whose executable or script is 'no-such-\d+'/);
    assert.match(miss.stderr, /hint: .*--pid/);
    assert.equal(miss.stdout, '', 'the error alone, no snapshot of nothing');
    const decoyOnly = await runCli(['monitor', '--once', '--json', '--process-match', 'rusty-pinch-decoy'], { env });
    assert.equal(decoyOnly.code, 1, 'a node -e process that mentions the text is not a match');
    assert.equal(decoyOnly.stdout, '');
    assert.match(decoyOnly.stderr, /^Error: no process/m);
    const gone = await runCli(['monitor', '--once', '--pid', '999999999'], { env });
    assert.equal(gone.code, 1);
    assert.equal(gone.stdout, '', 'a gone pid: the error only, no snapshot');
    assert.deepEqual(gone.stderr.split('\n').filter((l) => l.startsWith('Error:')), ['Error: process 999999999 not found']);
    for (const bad of [['--pid', 'abc'], ['--pid', '0'], ['--interval-ms', '0'], ['--interval-ms', '-5'], ['--storage-refresh-ticks', 'x'], ['--process-match', ''], ['--process-match', '/bin/x']]) {
      const r = await runCli(['monitor', '--once', ...bad], { env });
      assert.equal(r.code, 2, `${bad.join(' ')}: ${r.stderr}`);
    }
  } finally {
    decoy?.kill();
    cleanup();
  }
});

function startLive(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [CLI, 'monitor', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  exited.finally(() => clearTimeout(killer));
  const waitFor = async (pred: (s: string) => boolean) => {
    while (!pred(stdout)) {
      if (child.exitCode !== null) throw new Error(`monitor exited early: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, exited, waitFor, out: () => stdout, err: () => stderr };
}

const frames = (s: string) => s.split('Rusty Pinch Monitor').length - 1;

test('live mode (non-TTY): plain snapshots, stops on SIGINT and SIGTERM with exit 0', async () => {
  const { dir, cleanup } = tempDir('rp-monlive-');
  let repl: Spawned | undefined;
  try {
    repl = await startRepl(dir);
    const env = cleanEnv(dir);
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      const live = startLive(['--pid', String(repl.pid), '--interval-ms', '50', '--storage-refresh-ticks', '2'], env);
      await live.waitFor((s) => frames(s) >= 3);
      live.child.kill(sig);
      const r = await live.exited;
      assert.deepEqual(r, { code: 0, signal: null }, live.err());
      const out = live.out();
      // stdout is a pipe: plain snapshots, no alternate screen or cursor codes (the pty test covers a terminal).
      assert.ok(!out.includes('\x1b['), 'no escape codes when not on a terminal');
      assert.ok(!out.includes(ENTER_SCREEN) && !out.includes(LEAVE_SCREEN));
      assert.ok(out.endsWith('\n\nmonitor stopped\n'), `clean end (${sig}): ${JSON.stringify(out.slice(-60))}`);
      assert.match(out, /cpu  \[[▁▂▃▄▅▆▇█ ]+\]/);
      assert.match(out, /rss  \[[▁▂▃▄▅▆▇█ ]+\] max=/);
      assert.match(out, /cpu: \d+\.\d\d%/);
    }
    // Live --json: one JSON object per line, no escape codes.
    const lj = startLive(['--pid', String(repl.pid), '--interval-ms', '50', '--json'], env);
    await lj.waitFor((s) => s.split('\n').length >= 3);
    lj.child.kill('SIGINT');
    assert.equal((await lj.exited).code, 0);
    const lines = lj.out().trim().split('\n');
    assert.ok(!lj.out().includes('\x1b['));
    for (const l of lines) assert.equal(JSON.parse(l).process.pid, repl.pid);
    assert.equal(typeof JSON.parse(lines[lines.length - 1]!).process.cpu_percent, 'number');
  } finally {
    repl?.kill();
    cleanup();
  }
});

test('live mode keeps waiting when the process is missing', async () => {
  const { dir, cleanup } = tempDir('rp-monwait-');
  try {
    const live = startLive(['--process-match', `absent-${process.pid}`, '--interval-ms', '30'], cleanEnv(dir));
    await live.waitFor((s) => frames(s) >= 3);
    assert.match(live.out(), /process: not found .* waiting for a matching pid/);
    live.child.kill('SIGINT');
    assert.equal((await live.exited).code, 0);
  } finally {
    cleanup();
  }
});

test('live mode piped into a reader that goes away (like `| head`) ends quietly with exit 0', async () => {
  const { dir, cleanup } = tempDir('rp-monpipe-');
  try {
    for (const extra of [[], ['--json']]) {
      const live = startLive(['--pid', String(process.pid), '--interval-ms', '20', ...extra], cleanEnv(dir));
      await live.waitFor((s) => s.length > 0);
      live.child.stdout.destroy();
      const r = await live.exited;
      assert.deepEqual(r, { code: 0, signal: null }, live.err());
      assert.doesNotMatch(live.err(), /EPIPE|Unhandled/);
    }
  } finally {
    cleanup();
  }
});
