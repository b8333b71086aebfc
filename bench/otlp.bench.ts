// OTLP export never slows a turn. In-process turns (local provider) at a busy bot's pace (100 a
// second, 10 chats) with export off (the baseline), to a live collector, a dead one (connection
// refused) and a slow one (answers after 30 s), with exports firing during the window (metrics
// every second, spans every 2 s). Goal: p99 turn latency with export on <= 1.5x the baseline p99
// measured in this run (+0.5 ms of timer noise). Then the CPU the export costs per turn (turns
// back to back, throughput against off), and the one-shot CLI's exit: the answer comes first;
// the process may linger at most the export timeout (OTEL_EXPORTER_OTLP_TIMEOUT, 2 s).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createApp } from '../src/app/index.js';
import { settingsFromEnv } from '../src/config/index.js';
import { setEventSink } from '../src/observe/index.js';
import { CLI, cleanEnv, freePort, tempDir } from '../test/helpers.js';

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const ms = (n: number) => `${n.toFixed(3)} ms`;

/** Turns for `seconds`: paced (`perSecond`) or back to back (0); latencies after a warm-up. */
async function turns(dir: string, env: Record<string, string>, seconds: number, perSecond: number): Promise<{ lat: number[]; n: number }> {
  const app = await createApp({ settings: settingsFromEnv({ ...env, RUSTY_PINCH_SESSION_FSYNC: 'false', OTEL_METRIC_EXPORT_INTERVAL_SECS: '1' }, dir) });
  const lat: number[] = [];
  const start = performance.now();
  const until = start + seconds * 1000;
  let i = 0;
  while (performance.now() < until) {
    if (perSecond) {
      const due = start + (i * 1000) / perSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r2) => setTimeout(r2, wait));
    }
    const t0 = performance.now();
    const r = await app.runtime.handle({ sessionId: `s${i++ % 10}`, text: 'hello' });
    lat.push(performance.now() - t0);
    if (r.status !== 'ok') throw new Error(r.text);
    if (!perSecond && i % 50 === 0) await new Promise((r2) => setImmediate(r2));
  }
  await app.close();
  return { lat: lat.slice(Math.min(20, lat.length >> 2)), n: lat.length };
}

/** A collector in its own process (its CPU is not ours) answering after `delayMs`. */
async function collectorProcess(delayMs: number): Promise<{ url: string; child: ChildProcess }> {
  const code = `const s=require('http').createServer((q,r)=>{q.resume();q.on('end',()=>setTimeout(()=>r.end('{}'),${delayMs}).unref())});s.listen(0,'127.0.0.1',()=>console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((r) => child.stdout!.once('data', (d: Buffer) => r(d.toString().trim())));
  return { url: `http://127.0.0.1:${port}`, child };
}

function wall(args: string[], env: Record<string, string>): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { env, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`exit ${r.status}`);
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const t = tempDir('rp-bench-otlp-');
  setEventSink(() => {});
  const slow = await collectorProcess(30_000);
  const fast = await collectorProcess(0);
  try {
    const env = cleanEnv(t.dir);
    const dead = `http://127.0.0.1:${await freePort()}`;
    await turns(t.dir, env, 1, 0); // warm-up
    const configs: Array<[string, Record<string, string>]> = [
      ['off (baseline)', env],
      ['live collector', { ...env, RUSTY_PINCH_OTEL_EXPORTER_OTLP_ENDPOINT: fast.url }],
      ['dead collector', { ...env, RUSTY_PINCH_OTEL_EXPORTER_OTLP_ENDPOINT: dead }],
      ['slow collector', { ...env, RUSTY_PINCH_OTEL_EXPORTER_OTLP_ENDPOINT: slow.url }],
    ];
    let base = 0;
    let pass = true;
    for (const [name, e] of configs) {
      const { lat, n } = await turns(t.dir, e, 8, 100);
      const p50 = pct(lat, 50);
      const p99 = pct(lat, 99);
      if (!base) base = p99;
      const ok = p99 <= base * 1.5 + 0.5;
      if (!name.startsWith('off')) pass &&= ok;
      console.log(`paced 100 turns/s, export ${name}: ${n} turns, p50 ${ms(p50)}, p95 ${ms(pct(lat, 95))}, p99 ${ms(p99)}, max ${ms(Math.max(...lat))}, p99 ratio ${(p99 / base).toFixed(2)}${name.startsWith('off') ? '' : ok ? ' PASS' : ' MISS'}`);
    }
    console.log(`goal: p99 turn latency with export on (live, dead, slow) <= 1.5x off + 0.5 ms: ${pass ? 'PASS' : 'MISS'}`);

    const sat: Record<string, number> = {};
    for (const [name, e] of configs) sat[name] = (await turns(t.dir, e, 4, 0)).n / 4;
    const off = sat['off (baseline)']!;
    for (const [name] of configs.slice(1)) {
      const us = (1 / sat[name]! - 1 / off) * 1e6;
      console.log(`back to back, export ${name}: ${sat[name]!.toFixed(0)} turns/s vs ${off.toFixed(0)} off; export CPU ~${us.toFixed(0)} us per turn (informational)`);
    }

    const cli: Array<[string, Record<string, string>]> = [
      ['off', env],
      ['live', { ...env, RUSTY_PINCH_OTEL_EXPORTER_OTLP_ENDPOINT: fast.url }],
      ['dead', { ...env, RUSTY_PINCH_OTEL_EXPORTER_OTLP_ENDPOINT: dead }],
      ['slow', { ...env, RUSTY_PINCH_OTEL_EXPORTER_OTLP_ENDPOINT: slow.url }],
    ];
    const walls: Record<string, number> = {};
    for (const [name, e] of cli) {
      const xs = [0, 1, 2].map(() => wall(['run', '--session', 'cli', '--message', 'hi'], e));
      walls[name] = pct(xs, 50);
    }
    const bound = walls.off! + 2000 + 1000;
    const exitOk = walls.dead! <= bound && walls.slow! <= bound;
    console.log(`one-shot run wall (median of 3): off ${ms(walls.off!)}, live ${ms(walls.live!)}, dead ${ms(walls.dead!)}, slow ${ms(walls.slow!)}; goal dead/slow <= off + 2 s timeout + 1 s: ${exitOk ? 'PASS' : 'MISS'}`);
  } finally {
    slow.child.kill();
    fast.child.kill();
    t.cleanup();
  }
}

await main();
