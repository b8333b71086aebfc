// Preloaded into a process under bench (`node --import`): event-loop delay histogram, written
// as JSON to $LAG_PROBE_OUT (then reset) on SIGUSR2. Bench-only; the product never loads it.
// After $LAG_PROBE_READS signals (default: never) the histogram is switched off: its 10 ms timer
// wakes the loop 100 times a second, which keeps V8's memory reducer from ever shrinking the heap
// of an idle process (the RSS-after-load figure would measure the probe, not the product).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
let reads = 0;
const stopAfter = Number(process.env.LAG_PROBE_READS ?? Infinity);
process.on('SIGUSR2', () => {
  const ms = (ns) => ns / 1e6;
  writeFileSync(process.env.LAG_PROBE_OUT, JSON.stringify({ p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), count: h.count }));
  h.reset();
  if (++reads >= stopAfter) h.disable();
});
