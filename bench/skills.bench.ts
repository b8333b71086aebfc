// Skills benchmark (issue 4). (1) Cold skill run: fresh QuickJS runtime+context per run on the
// reused WASM module, trivial skill; measured in-thread (the sandbox itself) and end to end
// through SkillManager (file read + worker round trip). Baseline: a bare runtime+context
// create/dispose. (2) 100 concurrent runs each awaiting http_get on a loopback server that
// answers after 50 ms; baseline: one such run.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getSkillEngine } from '../src/skills/engine.js';
import { runInSandbox } from '../src/skills/sandbox.js';
import { SkillManager } from '../src/skills/index.js';
import type { SkillSettings } from '../src/config/index.js';
import { setEventSink } from '../src/observe/index.js';
import { tempDir } from '../test/helpers.js';

setEventSink(() => undefined);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const f = (n: number) => n.toFixed(3);

const limits = { memoryBytes: 32 << 20, stackBytes: 256 << 10, timeoutMs: 5000, maxOutputBytes: 128 << 10, maxHttpCalls: 16, maxLogCalls: 200 };
const host = { log: () => undefined, now: () => new Date().toISOString(), http: async () => ({ status: 200, body: '' }) };
const TRIVIAL = 'function main(a) { return "hi " + a }';

const mod = await getSkillEngine();
const N = 2000;
const base: number[] = [];
for (let i = 0; i < N; i++) {
  const t = performance.now();
  const rt = mod.newRuntime();
  const ctx = rt.newContext();
  ctx.dispose();
  rt.dispose();
  base.push(performance.now() - t);
}
// The very first run of the process (JIT cold), reported on its own; then a warm-up.
let t0 = performance.now();
await runInSandbox({ source: TRIVIAL, filename: 't.js', args: 'x', limits, host });
const veryFirst = performance.now() - t0;
for (let i = 0; i < 200; i++) await runInSandbox({ source: TRIVIAL, filename: 't.js', args: 'x', limits, host }); // warm-up
const cold: number[] = [];
for (let i = 0; i < N; i++) {
  const t = performance.now();
  await runInSandbox({ source: TRIVIAL, filename: 't.js', args: 'x', limits, host });
  cold.push(performance.now() - t);
}

const { dir, cleanup } = tempDir('rp-bench-skills-');
mkdirSync(join(dir, 'skills'), { recursive: true });
writeFileSync(join(dir, 'skills', 'trivial.js'), TRIVIAL);
writeFileSync(join(dir, 'skills', 'fetch.js'), 'async function main(u) { const r = await http_get(u); return r.status + ":" + r.body }');
const settings: SkillSettings = { httpTimeoutSecs: 5, httpAllow: ['127.0.0.1'], memoryLimitMb: 32, timeoutMs: 5000, maxOutputBytes: 131072, maxHttpCalls: 16, httpMaxBodyBytes: 1 << 20 };
const manager = new SkillManager(dir, settings, { assetsDir: null });
t0 = performance.now();
await manager.run('trivial', 'x'); // first run through a fresh manager: worker start included
const firstE2e = performance.now() - t0;
for (let i = 0; i < 100; i++) await manager.run('trivial', 'x');
const e2e: number[] = [];
for (let i = 0; i < 1000; i++) {
  const t = performance.now();
  await manager.run('trivial', 'x');
  e2e.push(performance.now() - t);
}

const server = createServer((_req, res) => setTimeout(() => res.end('late'), 50));
server.maxConnections = 1000;
await new Promise<void>((r) => server.listen(0, '127.0.0.1', 511, r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
await manager.run('fetch', url);
let t = performance.now();
await manager.run('fetch', url);
const single = performance.now() - t;
t = performance.now();
await Promise.all(Array.from({ length: 100 }, () => manager.run('fetch', url)));
const firstRound = performance.now() - t; // includes spawning the second worker thread
const rounds: number[] = [];
for (let r = 0; r < 5; r++) {
  t = performance.now();
  const outs = await Promise.all(Array.from({ length: 100 }, () => manager.run('fetch', url)));
  rounds.push(performance.now() - t);
  if (!outs.every((o) => o === '200:late')) throw new Error('unexpected output');
}
await manager.close();
await new Promise((r) => server.close(r));
cleanup();

const bMed = pct(base, 50);
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
console.log(`baseline runtime+context create/dispose: median ${f(bMed)} ms`);
console.log(`cold skill run in-thread (fresh runtime+context, module reused): median ${f(pct(cold, 50))} ms (${(pct(cold, 50) / bMed).toFixed(1)}x baseline), p99 ${f(pct(cold, 99))} ms; the process's very first run ${f(veryFirst)} ms [goal median < 2 ms]: ${verdict(pct(cold, 50) < 2)}`);
console.log(`cold skill run end to end (SkillManager: file read + worker round trip): median ${f(pct(e2e, 50))} ms, p99 ${f(pct(e2e, 99))} ms; first run of a fresh manager (worker start) ${firstE2e.toFixed(1)} ms (reported)`);
console.log(`one run awaiting http_get (50 ms server): ${single.toFixed(1)} ms`);
const worstAll = Math.max(firstRound, ...rounds);
console.log(`100 concurrent runs awaiting http_get (50 ms server): first (cold) round incl. second worker start ${firstRound.toFixed(1)} ms, then median of 5 warm rounds ${pct(rounds, 50).toFixed(1)} ms (${(pct(rounds, 50) / single).toFixed(2)}x one run); worst of all ${worstAll.toFixed(1)} ms [goal every round, cold included, < 500 ms]: ${verdict(worstAll < 500)}`);
