// Core benchmarks (issue 2): CLI cold start vs `node -e 0`, history cost on a 100,000-message
// session vs an empty one, and in-process turn overhead. Figures are ratios against baselines
// measured in this same run, because the machine is noisy.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../src/app/index.js';
import { settingsFromEnv } from '../src/config/index.js';
import { setEventSink } from '../src/observe/index.js';
import { CLI, cleanEnv, tempDir } from '../test/helpers.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const ms = (n: number) => `${n.toFixed(2)} ms`;

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
    console.log(`cli cold start: stats median ${ms(median(stats))}, node -e 0 median ${ms(median(node))}, ratio ${ratio.toFixed(2)} (target <= 2.0)`);

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
    console.log(`history cost (in-process): 100k-message session median ${ms(median(big))}, empty session median ${ms(median(empty))}, ratio ${(median(big) / median(empty)).toFixed(2)} (target <= 1.3)`);
    const bigCli: number[] = [];
    const emptyCli: number[] = [];
    for (let i = 0; i < 11; i++) {
      emptyCli.push(wall(process.execPath, [CLI, 'run', '--session', `cli-empty-${i}`, '--message', 'hi'], env));
      bigCli.push(wall(process.execPath, [CLI, 'run', '--session', 'big', '--message', 'hi'], env));
    }
    console.log(`history cost (one CLI process per turn): 100k median ${ms(median(bigCli))}, empty median ${ms(median(emptyCli))}, ratio ${(median(bigCli) / median(emptyCli)).toFixed(2)} (target <= 1.3)`);

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
      console.log(`turn overhead (fsync=${fsync}): 1,000 turns over 10 sessions in ${ms(total)} = ${(1000 / (total / 1000)).toFixed(0)} turns/s; per-turn latency p50 ${ms(pct(lat, 50))}, p99 ${ms(pct(lat, 99))} (target p99 < 10 ms)`);
      await a.close();
    }
    await app.close();
  } finally {
    t.cleanup();
  }
}

await main();
