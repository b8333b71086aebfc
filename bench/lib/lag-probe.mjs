// Preloaded into a process under bench (`node --import`): event-loop delay histogram, written
// as JSON to $LAG_PROBE_OUT (then reset) on SIGUSR2. Bench-only; the product never loads it.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
process.on('SIGUSR2', () => {
  const ms = (ns) => ns / 1e6;
  writeFileSync(process.env.LAG_PROBE_OUT, JSON.stringify({ p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), count: h.count }));
  h.reset();
});
