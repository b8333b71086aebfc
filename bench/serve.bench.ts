// `serve` with Telegram and WhatsApp enabled against loopback fakes: time until /readyz is 200
// (goal < 0.5 s), quiet and under a parallel CPU hog on every core, in paired samples beside a
// bare `node` start; and RSS after 10 s idle (goal < 80 MiB). Needs a built dist/.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { CLI, cleanEnv, freePort, tempDir } from '../test/helpers.js';
import { startFakeTelegram } from '../test/fakes/telegram-api.js';
import { FakeWhatsAppBridge } from '../test/fakes/whatsapp-bridge.js';

const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}


async function stop(child: ChildProcess): Promise<number | null> {
  const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  child.kill('SIGTERM');
  return done;
}

/** Baseline: a bare node process that is "ready" once it has started (prints one line). */
async function baseline(): Promise<{ readyMs: number; rss: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['-e', 'console.log("up"); setInterval(() => {}, 1000)'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((r) => child.stdout!.once('data', () => r()));
  const readyMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, Math.min(IDLE_MS, 2000)));
  const rss = rssMiB(child.pid!);
  await stop(child);
  return { readyMs, rss };
}

async function serveRun(idleMs: number): Promise<{ readyMs: number; rss: number; exit: number | null }> {
  const t = tempDir('rp-bench-serve-');
  const tg = await startFakeTelegram();
  const wa = await FakeWhatsAppBridge.start({ dialect: 'baileys', token: 'bench-token-123' });
  const ops = await freePort();
  const env = cleanEnv(t.dir, {
    RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED: 'true',
    RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN: tg.token,
    RUSTY_PINCH_CHANNELS_TELEGRAM_API_ROOT: tg.url,
    RUSTY_PINCH_CHANNELS_TELEGRAM_POLL_TIMEOUT_SECS: '1',
    RUSTY_PINCH_CHANNELS_WHATSAPP_ENABLED: 'true',
    RUSTY_PINCH_CHANNELS_WHATSAPP_BRIDGE_URL: wa.url,
    RUSTY_PINCH_CHANNELS_WHATSAPP_BRIDGE_TOKEN: 'bench-token-123',
    RUSTY_PINCH_OPS_ADDR: `127.0.0.1:${ops}`,
  });
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, 'serve'], { env, stdio: ['ignore', 'ignore', 'ignore'] });
  let readyMs = NaN;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${ops}/readyz`);
      await r.arrayBuffer();
      if (r.status === 200) {
        readyMs = performance.now() - t0;
        break;
      }
    } catch {
      // not listening yet
    }
    if (performance.now() - t0 > 15_000) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, idleMs));
  const rss = rssMiB(child.pid!);
  const exit = await stop(child);
  await Promise.all([tg.close(), wa.close()]);
  t.cleanup();
  return { readyMs, rss, exit };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

/** A CPU hog on every core (busy loops in child processes), as on a busy 2-core machine. */
function startHog(): ChildProcess[] {
  const n = Math.max(1, availableParallelism());
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
}

// Paired samples: each round starts a bare node process and serve back to back, so machine
// drift hits both; the ratio is taken per pair. Then the same under a parallel CPU hog.
async function pairs(n: number): Promise<{ serve: number[]; base: number[]; ratios: number[] }> {
  const out = { serve: [] as number[], base: [] as number[], ratios: [] as number[] };
  for (let i = 0; i < n; i++) {
    const b = await baseline();
    const s = await serveRun(200);
    out.base.push(b.readyMs);
    out.serve.push(s.readyMs);
    out.ratios.push(s.readyMs / b.readyMs);
  }
  return out;
}

const quiet = await pairs(RUNS);
const hog = startHog();
let busy: Awaited<ReturnType<typeof pairs>>;
try {
  busy = await pairs(RUNS);
} finally {
  for (const h of hog) h.kill('SIGKILL');
}
const idle = await serveRun(IDLE_MS);
const base = await baseline();
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
console.log(`serve (telegram + whatsapp, fakes) /readyz 200, ${RUNS} paired samples: median ${median(quiet.serve).toFixed(0)} ms [${fmt(quiet.serve)}], bare node start median ${median(quiet.base).toFixed(0)} ms, ratio ${median(quiet.ratios).toFixed(1)}x [goal < 500 ms]: ${verdict(median(quiet.serve) < 500)}`);
console.log(`same under a CPU hog on all ${hog.length} cores: median ${median(busy.serve).toFixed(0)} ms [${fmt(busy.serve)}], bare node median ${median(busy.base).toFixed(0)} ms, ratio ${median(busy.ratios).toFixed(1)}x [goal < 500 ms]: ${verdict(median(busy.serve) < 500)}`);
console.log(`serve RSS after ${(IDLE_MS / 1000).toFixed(0)} s idle: ${idle.rss.toFixed(1)} MiB = ${(idle.rss / base.rss).toFixed(1)}x a bare node process (${base.rss.toFixed(1)} MiB) [goal < 80 MiB]: ${verdict(idle.rss < 80)}; exit on SIGTERM: ${idle.exit}`);
