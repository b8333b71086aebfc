// Core benchmarks (issue 2): CLI cold start vs `node -e 0`, history cost on a 100,000-message
// session vs an empty one, and in-process turn overhead. Figures are ratios against baselines
// measured in this same run, because the machine is noisy.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../src/app/index.js';
import { settingsFromEnv } from '../src/config/index.js';
import { setEventSink } from '../src/observe/index.js';
import { CLI, cleanEnv, tempDir } from '../test/helpers.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const ms = (n: number) => `${n.toFixed(2)} ms`;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

function wall(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'ignore'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function writeSession(dir: string, id: string, n: number): void {
  mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(JSON.stringify({ role: i % 2 ? 'assistant' : 'user', content: `message number ${i} with some ordinary text in it`, timestamp: '2026-01-01T00:00:00.000+00:00' }));
  writeFileSync(join(dir, `${id}.jsonl`), lines.length ? lines.join('\n') + '\n' : '');
}

async function main(): Promise<void> {
  const t = tempDir('rp-bench-');
  setEventSink(() => {});
  try {
    const env = cleanEnv(t.dir);
    execFileSync(process.execPath, [CLI, 'run', '--message', 'warm'], { env, stdio: 'ignore' });

    // 1. CLI cold start.
    const node: number[] = [];
    const stats: number[] = [];
    for (let i = 0; i < 21; i++) {
      node.push(wall(process.execPath, ['-e', '0'], env));
      stats.push(wall(process.execPath, [CLI, 'stats'], env));
    }
    const ratio = median(stats) / median(node);
    console.log(`cli cold start: stats median ${ms(median(stats))}, node -e 0 median ${ms(median(node))}, ratio ${ratio.toFixed(2)} [goal <= 2.0]: ${verdict(ratio <= 2)}`);

    // 2a. First touch of a long session: one CLI process per turn, the count cache (.index)
    // removed before every run, so each run pays what a session carried over from the original
    // (or a deleted cache) costs. Paired with an empty session, alternating.
    const sessionsDir = join(t.dir, 'data', 'sessions');
    writeSession(sessionsDir, 'million', 1_000_000);
    const firstBig: number[] = [];
    const firstEmpty: number[] = [];
    for (let i = 0; i < 9; i++) {
      rmSync(join(sessionsDir, '.index'), { recursive: true, force: true });
      firstEmpty.push(wall(process.execPath, [CLI, 'run', '--session', `first-empty-${i}`, '--message', 'hi'], env));
      firstBig.push(wall(process.execPath, [CLI, 'run', '--session', 'million', '--message', 'hi'], env));
    }
    const firstRatio = median(firstBig) / median(firstEmpty);
    console.log(`first touch (one CLI process, no count cache): 1M-line session median ${ms(median(firstBig))}, empty median ${ms(median(firstEmpty))}, ratio ${firstRatio.toFixed(2)} [goal <= 1.3]: ${verdict(firstRatio <= 1.3)}`);
    const sessionCmd: number[] = [];
    let peakKiB = 0;
    for (let i = 0; i < 3; i++) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, CLI, 'session', '--session', 'million'], { env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 20 });
      sessionCmd.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const kib = Number(/(\d+)\s*$/.exec(r.stderr.toString())?.[1] ?? NaN);
      if (Number.isFinite(kib)) peakKiB = Math.max(peakKiB, kib);
    }
    const peakMiB = peakKiB / 1024;
    console.log(`session --session on the 1M-line session (${(1_000_000).toLocaleString('en')} records to stdout): median ${ms(median(sessionCmd))}, peak RSS ${peakMiB.toFixed(0)} MiB (streamed) [goal peak < 150 MiB, constant in the session size]: ${verdict(peakMiB > 0 && peakMiB < 150)}`);
    rmSync(join(sessionsDir, 'million.jsonl'), { force: true });

    // 2. History cost, in-process and as one CLI process per turn.
    const sessions = join(t.dir, 'data', 'sessions');
    writeSession(sessions, 'big', 100_000);
    const settings = settingsFromEnv({ ...env }, t.dir);
    const app = await createApp({ settings });
    const turn = async (id: string) => {
      const t0 = performance.now();
      const r = await app.runtime.handle({ sessionId: id, text: 'hello' });
      if (r.status !== 'ok') throw new Error(r.text);
      return performance.now() - t0;
    };
    await turn('big');
    await turn('empty-warm');
    const big: number[] = [];
    const empty: number[] = [];
    for (let i = 0; i < 60; i++) {
      empty.push(await turn(`empty-${i}`));
      big.push(await turn('big'));
    }
    console.log(`history cost (in-process, after the first touch): 100k-message session median ${ms(median(big))}, empty session median ${ms(median(empty))}, ratio ${(median(big) / median(empty)).toFixed(2)} [goal <= 1.3]: ${verdict(median(big) / median(empty) <= 1.3)}`);
    const bigCli: number[] = [];
    const emptyCli: number[] = [];
    for (let i = 0; i < 11; i++) {
      emptyCli.push(wall(process.execPath, [CLI, 'run', '--session', `cli-empty-${i}`, '--message', 'hi'], env));
      bigCli.push(wall(process.execPath, [CLI, 'run', '--session', 'big', '--message', 'hi'], env));
    }
    console.log(`history cost (one CLI process per turn, count cache kept): 100k median ${ms(median(bigCli))}, empty median ${ms(median(emptyCli))}, ratio ${(median(bigCli) / median(emptyCli)).toFixed(2)} [goal <= 1.3]: ${verdict(median(bigCli) / median(emptyCli) <= 1.3)}`);

    // 3. In-process turn overhead: 1,000 local turns over 10 sessions, one chat per session
    // sending its next message when the previous is answered (10 conversations at once).
    // Measured durable (fdatasync per append, the default) and without fsync, which isolates
    // the pipeline's own cost from the disk's.
    for (const fsync of ['true', 'false']) {
      const a = await createApp({ settings: settingsFromEnv({ ...env, RUSTY_PINCH_SESSION_FSYNC: fsync }, t.dir) });
      const lat: number[] = [];
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: 10 }, async (_, s) => {
          for (let i = 0; i < 100; i++) {
            const st = performance.now();
            const r = await a.runtime.handle({ sessionId: `load-${fsync}-${s}`, text: `turn ${i}` });
            if (r.status !== 'ok') throw new Error(r.text);
            lat.push(performance.now() - st);
          }
        }),
      );
      const total = performance.now() - t0;
      const goal = fsync === 'true' ? ` [goal p99 < 10 ms with fsync on]: ${verdict(pct(lat, 99) < 10)}` : ' (the pipeline without the disk, for comparison)';
      console.log(`turn overhead (fsync=${fsync}): 1,000 turns over 10 sessions in ${ms(total)} = ${(1000 / (total / 1000)).toFixed(0)} turns/s; per-turn latency p50 ${ms(pct(lat, 50))}, p99 ${ms(pct(lat, 99))}${goal}`);
      await a.close();
    }
    await app.close();
  } finally {
    t.cleanup();
  }
}

await main();
