// Sustained load (issue 14): a few thousand Telegram messages over many chats through `serve`
// (local provider, session fsync ON as by default, the loopback Bot API fake), side by side with
// a minimal echo bot on the same fake, measured in the same run. Reports throughput and CPU per
// message against the echo bot, bytes the serve process wrote to files per message beyond the
// session bytes (/proc/<pid>/io wchar minus its socket and stdio bytes), disk write_bytes,
// event-loop lag p99 (a preloaded monitorEventLoopDelay probe), and RSS idle / peak / after.
// Bounded: SOAK_MESSAGES (3000), SOAK_CHATS (200), SOAK_SETTLE_MS (30000), SOAK_ROUNDS (3 paired
// rounds; the verdict is their median). SOAK_FSYNC_OFF=1 runs serve without session fsync, for
// comparison only (what durability costs). 127.0.0.1 only.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT, cleanEnv, freePort, tempDir } from '../test/helpers.js';
import { startFakeTelegram, type FakeTelegram } from '../test/fakes/telegram-api.js';

const MESSAGES = Number(process.env.SOAK_MESSAGES ?? 3000);
const CHATS = Number(process.env.SOAK_CHATS ?? 200);
const SETTLE_MS = Number(process.env.SOAK_SETTLE_MS ?? 30_000);
const ROUNDS = Number(process.env.SOAK_ROUNDS ?? 3);
const TICK_MS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}
/** CPU of the process's main thread (its event loop), ms. */
function mainThreadMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}
/** The whole machine's kernel time (system + irq + softirq), ms over all cores: fsync work lands here. */
function machineKernelMs(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  return (f[2]! + f[5]! + f[6]!) * TICK_MS;
}
function io(pid: number): { wchar: number; writeBytes: number } {
  const t = readFileSync(`/proc/${pid}/io`, 'utf8');
  const get = (k: string) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(t)?.[1] ?? NaN);
  return { wchar: get('wchar'), writeBytes: get('write_bytes') };
}
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
function dirBytes(dir: string): number {
  try {
    return readdirSync(dir).reduce((n, f) => n + (f.endsWith('.jsonl') ? statSync(join(dir, f)).size : 0), 0);
  } catch {
    return 0;
  }
}

interface Load {
  ms: number;
  cpuMs: number;
  /** The bot's main thread only (the event loop that bounds its throughput). */
  mainMs: number;
  /** Kernel time of the whole machine during the load. */
  kernelMs: number;
  peakRss: number;
}

/** Queues MESSAGES messages over CHATS chats at once; resolves when every reply was sent. */
async function load(fake: FakeTelegram, pid: number, tag: string): Promise<Load> {
  const before = fake.sent.length;
  const c0 = cpuMs(pid);
  const m0 = mainThreadMs(pid);
  const k0 = machineKernelMs();
  let peak = rssMiB(pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 100);
  const t0 = performance.now();
  for (let i = 0; i < MESSAGES; i++) fake.message({ chatId: 10_000 + (i % CHATS), text: `${tag} message ${i}` });
  await fake.waitFor(() => fake.sent.length >= before + MESSAGES, 300_000, `${MESSAGES} replies`);
  const ms = performance.now() - t0;
  clearInterval(sampler);
  return { ms, cpuMs: cpuMs(pid) - c0, mainMs: mainThreadMs(pid) - m0, kernelMs: machineKernelMs() - k0, peakRss: Math.max(peak, rssMiB(pid)) };
}

async function stop(child: ChildProcess): Promise<void> {
  const done = new Promise((r) => child.once('close', r));
  child.kill('SIGTERM');
  await done;
}

async function echoRun(): Promise<Load & { lagP99: number }> {
  const fake = await startFakeTelegram();
  const t = tempDir('rp-bench-echo-');
  const lagFile = join(t.dir, 'lag.json');
  const child = spawn(process.execPath, ['--import', join(ROOT, 'bench', 'lib', 'lag-probe.mjs'), join(ROOT, 'bench', 'lib', 'echo-bot.mjs'), fake.url, fake.token], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LAG_PROBE_OUT: lagFile } });
  await new Promise<void>((r) => child.stdout!.once('data', () => r()));
  try {
    await load(fake, child.pid!, 'warm').catch(() => undefined);
    process.kill(child.pid!, 'SIGUSR2');
    await sleep(100);
    const l = await load(fake, child.pid!, 'echo');
    process.kill(child.pid!, 'SIGUSR2');
    await sleep(200);
    return { ...l, lagP99: (JSON.parse(readFileSync(lagFile, 'utf8')) as { p99: number }).p99 };
  } finally {
    t.cleanup();
    await stop(child);
    await fake.close();
  }
}

interface ServeResult extends Load {
  idleRss: number;
  afterRss: number;
  fileBytesPerMsg: number;
  diskBytesPerMsg: number;
  sessionBytesPerMsg: number;
  lagP99: number;
  lagMax: number;
}

async function serveRun(settleMs: number): Promise<ServeResult> {
  const t = tempDir('rp-bench-soak-');
  const fake = await startFakeTelegram();
  const ops = await freePort();
  const lagFile = join(t.dir, 'lag.json');
  const env = cleanEnv(t.dir, {
    RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED: 'true',
    ...(process.env.SOAK_FSYNC_OFF ? { RUSTY_PINCH_SESSION_FSYNC: 'false' } : {}),
    RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN: fake.token,
    RUSTY_PINCH_CHANNELS_TELEGRAM_API_ROOT: fake.url,
    RUSTY_PINCH_CHANNELS_TELEGRAM_POLL_TIMEOUT_SECS: '1',
    RUSTY_PINCH_CHANNELS_TELEGRAM_POLL_INTERVAL_MS: '0',
    RUSTY_PINCH_CHANNELS_TELEGRAM_DM_POLICY: 'open',
    RUSTY_PINCH_OPS_ADDR: `127.0.0.1:${ops}`,
    LAG_PROBE_OUT: lagFile,
    // Reset before the load, read after it, then off: the probe's own timer must not keep the
    // idle process from shrinking its heap during the RSS settle.
    LAG_PROBE_READS: '2',
  });
  const extra = process.env.SOAK_NODE_ARGS ? process.env.SOAK_NODE_ARGS.split(' ') : [];
  // Output to a file, as under systemd (a pipe this busy bench reads late would block serve).
  const logPath = join(t.dir, 'serve.log');
  const log = openSync(logPath, 'w');
  const child = spawn(process.execPath, [...extra, '--import', join(ROOT, 'bench', 'lib', 'lag-probe.mjs'), CLI, 'serve'], { env, stdio: ['ignore', log, log] });
  closeSync(log);
  const stdioBytes = (): number => statSync(logPath).size;
  const pid = child.pid!;
  try {
    for (let i = 0; ; i++) {
      const r = await fetch(`http://127.0.0.1:${ops}/readyz`).then((x) => x.status).catch(() => 0);
      if (r === 200) break;
      if (i > 400) throw new Error('serve did not become ready');
      await sleep(25);
    }
    await sleep(1000);
    const idleRss = rssMiB(pid);
    // Warm-up (lazy loads, JIT, first session files), then the measured load.
    await load(fake, pid, 'warm');
    await sleep(500);
    const sessions = join(t.dir, 'data', 'sessions');
    const s0 = dirBytes(sessions);
    const io0 = io(pid);
    const net0 = fake.bytesIn();
    const std0 = stdioBytes();
    process.kill(pid, 'SIGUSR2'); // reset the lag histogram
    await sleep(100);
    const l = await load(fake, pid, 'soak');
    await sleep(300); // the last handled lines and flushes
    const io1 = io(pid);
    const sessionBytes = dirBytes(sessions) - s0;
    const fileBytes = io1.wchar - io0.wchar - (fake.bytesIn() - net0) - (stdioBytes() - std0) - sessionBytes;
    process.kill(pid, 'SIGUSR2');
    await sleep(200);
    const lag = JSON.parse(readFileSync(lagFile, 'utf8')) as { p99: number; max: number };
    await sleep(settleMs);
    const afterRss = rssMiB(pid);
    return {
      ...l,
      idleRss,
      afterRss,
      fileBytesPerMsg: fileBytes / MESSAGES,
      diskBytesPerMsg: (io1.writeBytes - io0.writeBytes) / MESSAGES,
      sessionBytesPerMsg: sessionBytes / MESSAGES,
      lagP99: lag.p99,
      lagMax: lag.max,
    };
  } finally {
    await stop(child);
    await fake.close();
    t.cleanup();
  }
}

/** The true median (the mean of the middle two for an even count: never the better of two). */
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// Paired rounds (echo, then serve), so drift on a shared machine hits both alike.
const ratios: number[] = [];
let last: ServeResult | undefined;
let echoLast: (Load & { lagP99: number }) | undefined;
for (let r = 0; r < ROUNDS; r++) {
  const echo = await echoRun();
  const serve = await serveRun(r === ROUNDS - 1 ? SETTLE_MS : 0);
  ratios.push(echo.ms / serve.ms);
  const rate = (x: Load) => (MESSAGES / (x.ms / 1000)).toFixed(0);
  console.log(`round ${r + 1}: echo bot ${rate(echo)} msg/s (${(echo.cpuMs / MESSAGES).toFixed(2)} ms CPU/msg); serve ${rate(serve)} msg/s (${(serve.cpuMs / MESSAGES).toFixed(2)} ms CPU/msg); throughput ratio ${(echo.ms / serve.ms).toFixed(2)}`);
  last = serve;
  echoLast = echo;
}
const s = last!;
const ratio = median(ratios);
console.log(`${MESSAGES} messages over ${CHATS} chats, local provider, session fsync ${process.env.SOAK_FSYNC_OFF ? 'OFF (comparison only)' : 'on'}; paired rounds: ${ROUNDS}`);
console.log(`throughput: serve / echo bot = ${ratio.toFixed(2)} (median of ${ROUNDS}) [goal >= 0.90]: ${verdict(ratio >= 0.9)}`);
const e = echoLast!;
const perMsg = (ms: number): string => `${((ms / MESSAGES) * 1000).toFixed(0)} µs`;
console.log(`CPU per message: serve ${(s.cpuMs / MESSAGES).toFixed(2)} ms vs echo bot ${(e.cpuMs / MESSAGES).toFixed(2)} ms = ${(s.cpuMs / e.cpuMs).toFixed(2)}x (reported)`);
console.log(`event-loop thread CPU per message: serve ${perMsg(s.mainMs)} vs echo bot ${perMsg(e.mainMs)} = ${(s.mainMs / e.mainMs).toFixed(2)}x (reported; 10 ms ticks)`);
console.log(`machine kernel time per message (all processes: the fsyncs' journal commits land here): serve run ${perMsg(s.kernelMs)} vs echo run ${perMsg(e.kernelMs)} (reported)`);
console.log(`file bytes written per message beyond the session's ${s.sessionBytesPerMsg.toFixed(0)} B: ${s.fileBytesPerMsg.toFixed(0)} B (wchar minus sockets, stdio and session bytes) [goal <= 2048 B]: ${verdict(s.fileBytesPerMsg <= 2048)}`);
console.log(`disk write_bytes per message (page-granular: every fdatasync re-dirties a 4 KiB page): ${s.diskBytesPerMsg.toFixed(0)} B (reported)`);
console.log(`event-loop lag during the load (saturated: every message queued at once): p99 ${s.lagP99.toFixed(1)} ms, max ${s.lagMax.toFixed(1)} ms; echo bot p99 ${echoLast!.lagP99.toFixed(1)} ms [goal p99 < 20 ms]: ${verdict(s.lagP99 < 20)}`);
const back = s.afterRss / s.idleRss;
console.log(`RSS: idle ${s.idleRss.toFixed(1)} MiB, peak ${s.peakRss.toFixed(1)} MiB, ${(SETTLE_MS / 1000).toFixed(0)} s after ${s.afterRss.toFixed(1)} MiB = ${back.toFixed(2)}x idle [goal <= 1.20x]: ${verdict(back <= 1.2)}`);
