// Pulse inside a real `serve` process (issue 5): 200 HTTP health-check jobs every 5 s against a
// loopback server in another process. Reports the serve process's CPU share of one core while
// idle between ticks (from /proc/<pid>/stat) and the p99 start lateness of job runs (from the
// run history serve persists), next to an idle `serve` with no jobs measured in the same run.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openPulse } from '../src/pulse/index.js';
import { settingsFromEnv } from '../src/config/index.js';
import { setEventSink } from '../src/observe/index.js';
import { CLI, cleanEnv, startOkServerProcess, tempDir } from '../test/helpers.js';

const JOBS = 200;
const INTERVAL_SECS = 5;
const RUN_MS = Number(process.env.PULSE_BENCH_MS ?? 31_000);
const TICK_MS = 10; // /proc/<pid>/stat counts in clock ticks (USER_HZ = 100 on Linux)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))] ?? NaN;

function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime + stime
}


async function waitReady(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error('serve did not become ready');
}

async function runServe(env: Record<string, string>, port: number, ms: number): Promise<{ slots: Array<{ at: number; cpu: number; dur: number }>; wallStart: number }> {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'serve'], { env: { ...env, RUSTY_PINCH_OPS_ADDR: `127.0.0.1:${port}` }, stdio: ['ignore', 'ignore', 'ignore'] });
  await waitReady(port);
  const slots: Array<{ at: number; cpu: number; dur: number }> = [];
  const wallStart = Date.now();
  let prevT = Date.now();
  let prevC = procCpuMs(child.pid!);
  while (Date.now() - wallStart < ms) {
    await sleep(100);
    const now = Date.now();
    const c = procCpuMs(child.pid!);
    slots.push({ at: prevT, cpu: c - prevC, dur: now - prevT });
    prevT = now;
    prevC = c;
  }
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  return { slots, wallStart };
}

async function main(): Promise<void> {
  setEventSink(() => undefined);
  const t = tempDir('rp-pulse-serve-bench-');
  const server = await startOkServerProcess();
  try {
    const env = cleanEnv(t.dir, { RUSTY_PINCH_PULSE_HEALTHCHECK_ALLOW_PRIVATE: 'true', RUSTY_PINCH_CODEX_ENABLED: 'false' });
    const settings = settingsFromEnv(env, t.dir);
    const svc = openPulse({ workspace: settings.workspace, settings: settings.pulse, codexEnabled: false });
    for (const id of ['runtime-heartbeat', 'codex-healthcheck', 'codex-drain-queue']) await svc.removeJob(id).catch(() => undefined);

    // Baseline: the same serve with no jobs at all.
    const base = await runServe(env, 19_470, 8_000);
    const baseShare = base.slots.reduce((a, s) => a + s.cpu, 0) / base.slots.reduce((a, s) => a + s.dur, 0);

    for (let i = 0; i < JOBS; i++) {
      await svc.addHttpHealthcheck({ id: `hc-${String(i).padStart(3, '0')}`, intervalSecs: INTERVAL_SECS, url: server.url, expectedStatus: 200, timeoutSecs: 2, enabled: true });
    }
    const run = await runServe(env, 19_471, RUN_MS);
    const state = JSON.parse(readFileSync(join(settings.workspace, 'pulse', 'state.json'), 'utf8')) as { jobs: Array<{ id: string; history?: Array<{ started_at: string; due_at: string | null }> }> };
    const starts: number[] = [];
    const lateness: number[] = [];
    for (const job of state.jobs) {
      for (const h of job.history ?? []) {
        const started = Date.parse(h.started_at);
        if (started < run.wallStart || !h.due_at) continue;
        starts.push(started);
        lateness.push(started - Date.parse(h.due_at));
      }
    }
    const idle = run.slots.filter((s) => !starts.some((x) => x >= s.at - 1000 && x <= s.at + s.dur));
    const idleMs = idle.reduce((a, s) => a + s.dur, 0);
    const idleShare = idle.reduce((a, s) => a + s.cpu, 0) / Math.max(1, idleMs);
    const totalShare = run.slots.reduce((a, s) => a + s.cpu, 0) / run.slots.reduce((a, s) => a + s.dur, 0);
    const f = (x: number) => `${(x * 100).toFixed(2)}%`;
    console.log(`serve with ${JOBS} HTTP health-check jobs every ${INTERVAL_SECS}s for ${(RUN_MS / 1000).toFixed(0)} s: ${lateness.length} runs recorded`);
    console.log(`serve idle CPU share between ticks: ${f(idleShare)} of one core over ${(idleMs / 1000).toFixed(1)} s  [baseline serve with no jobs: ${f(baseShare)}; goal < 2%]: ${idleShare < 0.02 ? 'PASS' : 'MISS'}`);
    console.log(`serve overall CPU share (ticks included): ${f(totalShare)}`);
    console.log(`serve job start lateness: p50=${pct(lateness, 50).toFixed(0)} ms p99=${pct(lateness, 99).toFixed(0)} ms max=${Math.max(...lateness).toFixed(0)} ms  [goal p99 < 50 ms]: ${pct(lateness, 99) < 50 ? 'PASS' : 'MISS'}`);
  } finally {
    server.stop();
    t.cleanup();
  }
}

await main();
