// Issue 8 figures: a turn through the REAL Codex CLI (test/fixtures/real-codex, installed on first
// use) against the loopback Responses API. Wrapper overhead as ratios against running
// `codex exec` directly with the same argv in this same run, and the wrapper's peak RSS during
// a `rusty-pinch run` turn (sampled from /proc while the call is in flight).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingsFromEnv } from '../src/config/index.js';
import { openCodexPool } from '../src/brain/index.js';
import { setEventSink } from '../src/observe/index.js';
import { CLI, cleanEnv, tempDir } from '../test/helpers.js';
import { operatorLogin, realCodexBin, writeCodexHomeConfig } from '../test/real-codex.js';
import { startFakeResponsesApi } from '../test/fakes/responses-api.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const RUNS = 9;

function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Runs a command to completion; returns wall ms and (when asked) the peak RSS of that process. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string, sampleRss = false): Promise<{ ms: number; peakKb: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'ignore'] });
    if (input !== undefined) child.stdin!.end(input);
    let peakKb = 0;
    const timer = sampleRss ? setInterval(() => (peakKb = Math.max(peakKb, rssKb(child.pid!))), 10) : undefined;
    child.on('error', reject);
    child.on('exit', (code) => {
      if (timer) clearInterval(timer);
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`));
      else resolve({ ms: performance.now() - t0, peakKb });
    });
  });
}

async function main(): Promise<void> {
  const codex = realCodexBin();
  const api = await startFakeResponsesApi({ kind: 'text', text: 'bench answer' });
  const t = tempDir('rp-bench-codex-');
  setEventSink(() => {});
  let missed = 0;
  try {
    const home = join(t.dir, 'codex-home');
    writeCodexHomeConfig(home, api.baseUrl);
    operatorLogin(codex, home, 'sk-bench-key-0123456789');
    const env = cleanEnv(t.dir, { RUSTY_PINCH_PROVIDER: 'codex', RUSTY_PINCH_CODEX_CLI_BIN: codex, CODEX_HOME: home });
    const settings = settingsFromEnv(env, t.dir);
    const scratch = join(t.dir, 'scratch');
    spawnSync('mkdir', ['-p', scratch]);
    const directArgs = ['exec', '--json', '--skip-git-repo-check', '-s', 'read-only', '-C', scratch, '--model', settings.model, '-'];
    const childEnv = { PATH: process.env.PATH, HOME: process.env.HOME, CODEX_HOME: home };
    const pool = openCodexPool(settings);
    // Warm up every path once (health check, disk caches).
    await timed(codex, directArgs, childEnv, 'warm');
    await pool.generate({ prompt: 'warm', purpose: 'bench' });
    await timed(process.execPath, [CLI, 'run', '--message', 'warm'], env);

    const direct: number[] = [];
    const inProcess: number[] = [];
    const cli: number[] = [];
    const peaks: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      direct.push((await timed(codex, directArgs, childEnv, `hello ${i}`)).ms);
      const t0 = performance.now();
      const r = await pool.generate({ prompt: `hello ${i}`, purpose: 'bench' });
      if (r.status !== 'executed') throw new Error(`pool run ${i} was ${r.status}`);
      inProcess.push(performance.now() - t0);
      const c = await timed(process.execPath, [CLI, 'run', '--session', `b${i}`, '--message', `hello ${i}`], env, undefined, true);
      cli.push(c.ms);
      peaks.push(c.peakKb);
    }
    const d = median(direct);
    const inRatio = median(inProcess) / d;
    const cliRatio = median(cli) / d;
    const peakMb = Math.max(...peaks) / 1024;
    const line = (name: string, value: string, ok: boolean, goal: string) => {
      if (!ok) missed++;
      console.log(`${name}: ${value} (goal ${goal}) ${ok ? 'PASS' : 'MISS'}`);
    };
    console.log(`codex exec directly: median ${d.toFixed(0)} ms over ${RUNS} runs`);
    line('pool.generate vs codex exec (in-process wrapper overhead)', `median ${median(inProcess).toFixed(0)} ms, ratio ${inRatio.toFixed(2)}`, inRatio <= 1.15, '<= 1.15');
    line('rusty-pinch run vs codex exec (whole CLI turn)', `median ${median(cli).toFixed(0)} ms, ratio ${cliRatio.toFixed(2)}`, cliRatio <= 1.6, '<= 1.6');
    line('rusty-pinch run peak RSS during the call (wrapper only, codex excluded)', `${peakMb.toFixed(1)} MB`, peakMb <= 120, '<= 120 MB');
  } finally {
    t.cleanup();
    await api.close();
  }
  process.exit(missed ? 1 : 0);
}

void main();
