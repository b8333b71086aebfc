// `serve` with Telegram and WhatsApp enabled against loopback fakes: time until /readyz is 200
// (target < 0.5 s) and RSS after 10 s idle (target < 80 MiB), beside a bare `node` baseline
// measured the same way. Needs a built dist/ (npm run bench builds it).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CLI, cleanEnv, freePort, tempDir } from '../test/helpers.js';
import { startFakeTelegram } from '../test/fakes/telegram-api.js';
import { FakeWhatsAppBridge } from '../test/fakes/whatsapp-bridge.js';

const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

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

const base = await baseline();
const ready: number[] = [];
for (let i = 0; i < RUNS; i++) ready.push((await serveRun(200)).readyMs);
const idle = await serveRun(IDLE_MS);
ready.push(idle.readyMs);

const readyMed = median(ready);
console.log(`baseline (node -e, bare process): start ${base.readyMs.toFixed(0)} ms, RSS ${base.rss.toFixed(1)} MiB`);
console.log(`serve (telegram + whatsapp, fakes): /readyz 200 after ${readyMed.toFixed(0)} ms median of ${ready.length} [${ready.map((x) => x.toFixed(0)).join(', ')}] = ${(readyMed / base.readyMs).toFixed(1)}x baseline start; target < 500 ms: ${readyMed < 500 ? 'MET' : 'MISSED'}`);
console.log(`serve RSS after ${(IDLE_MS / 1000).toFixed(0)} s idle: ${idle.rss.toFixed(1)} MiB = ${(idle.rss / base.rss).toFixed(1)}x baseline; target < 80 MiB: ${idle.rss < 80 ? 'MET' : 'MISSED'}; exit on SIGTERM: ${idle.exit}`);
