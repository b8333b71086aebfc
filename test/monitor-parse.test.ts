// Monitor parsers and format helpers: real /proc samples, and garbage that must yield
// "unavailable" fields instead of a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCmdline, parseKbValue, parseLoadavg, parseMeminfo, parsePidIo, parsePidStat, parsePidStatus, parseProcStat, parseStatm, parseUptime } from '../src/monitor/proc-parse.js';
import { formatBytes, formatDuration, formatPercent, sparkline } from '../src/monitor/format.js';
import { cpuPercent } from '../src/monitor/proc-sample.js';

const GARBAGE = ['', '\0\0\0', 'garbage', '))))(((', '1 2 3', 'x'.repeat(10_000), '\u{1F600} ( ) : :', '-1 -2 -3', 'NaN Infinity 1e999'];

test('stat: comm with spaces and parentheses, fields after the last )', () => {
  const line = '4242 (my (odd) proc) S 17 4242 4242 0 -1 4194560 1234 0 5 0 250 75 3 1 20 0 7 0 987654 1234567890 2500 18446744073709551615 1 1 0 0 0 0 0 4096 1260 0 0 0 17 1 0 0 0 0 0\n';
  const s = parsePidStat(line);
  assert.ok(s);
  assert.equal(s.comm, 'my (odd) proc');
  assert.equal(s.state, 'S');
  assert.equal(s.ppid, 17);
  assert.equal(s.cpuTicks, 325);
  assert.equal(s.threads, 7);
  assert.equal(s.startTicks, 987654);
  assert.equal(s.vsizeBytes, 1234567890);
  // A comm that looks like more fields does not shift them.
  const tricky = parsePidStat('9 (a) R 1 2 3) Z 5 9 9 0 -1 0 0 0 0 0 11 22 0 0 20 0 1 0 100 2048 1 0');
  assert.equal(tricky?.comm, 'a) R 1 2 3');
  assert.equal(tricky?.state, 'Z');
  assert.equal(tricky?.cpuTicks, 33);
});

test('stat: garbage and truncated lines are rejected, never thrown', () => {
  for (const g of [...GARBAGE, '1 (x) S', '1 (x) S 1 2 3 4 5 6 7 8 9 10 abc 12', '1 (x) 9 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20']) {
    assert.equal(parsePidStat(g), undefined, JSON.stringify(g.slice(0, 40)));
  }
  assert.equal(parsePidStat(undefined as unknown as string), undefined);
});

test('status: VmRSS/VmSize in kB, Threads, Name; garbage fields are undefined', () => {
  const text = 'Name:\tnode\nUmask:\t0022\nState:\tS (sleeping)\nPPid:\t12\nVmPeak:\t 1000 kB\nVmSize:\t  1234567 kB\nVmRSS:\t   51200 kB\nThreads:\t11\n';
  assert.deepEqual(parsePidStatus(text), { name: 'node', rssBytes: 51200 * 1024, vmsBytes: 1234567 * 1024, threads: 11, ppid: 12 });
  const bad = parsePidStatus('VmRSS: lots\nVmSize: -5 kB\nThreads: many\nName:\n');
  assert.deepEqual(bad, { name: undefined, rssBytes: undefined, vmsBytes: undefined, threads: undefined, ppid: undefined });
  for (const g of GARBAGE) assert.doesNotThrow(() => parsePidStatus(g));
});

test('io, statm, loadavg, uptime, cmdline', () => {
  assert.deepEqual(parsePidIo('rchar: 6976\nwchar: 0\nsyscr: 10\nsyscw: 0\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n'), { readBytes: 4096, writeBytes: 8192 });
  assert.deepEqual(parsePidIo('read_bytes: x\n'), { readBytes: undefined, writeBytes: undefined });
  assert.deepEqual(parseStatm('2000 500 100 10 0 300 0\n', 4096), { vmsBytes: 2000 * 4096, rssBytes: 500 * 4096 });
  assert.deepEqual(parseStatm('junk'), { vmsBytes: undefined, rssBytes: undefined });
  assert.deepEqual(parseLoadavg('0.05 0.07 0.02 1/90 7823\n'), [0.05, 0.07, 0.02]);
  assert.equal(parseUptime('12345.67 2345.00\n'), 12345.67);
  assert.deepEqual(parseCmdline('node\0/opt/rp/bin/rusty-pinch\0serve\0'), ['node', '/opt/rp/bin/rusty-pinch', 'serve']);
  assert.deepEqual(parseCmdline(''), []);
  for (const g of GARBAGE) {
    assert.doesNotThrow(() => parsePidIo(g));
    assert.doesNotThrow(() => parseStatm(g));
    assert.doesNotThrow(() => parseCmdline(g));
    assert.doesNotThrow(() => parseUptime(g));
  }
  for (const g of ['', 'garbage', '1 2', '1 x 3', '-1 -2 -3', 'NaN NaN NaN']) assert.equal(parseLoadavg(g), undefined, g);
});

test('meminfo and /proc/stat', () => {
  const mem = 'MemTotal:       24683656 kB\nMemFree:        24441536 kB\nMemAvailable:   24395352 kB\nBuffers: 10 kB\nSwapTotal:       2097148 kB\nSwapFree:        2097000 kB\n';
  assert.deepEqual(parseMeminfo(mem), { totalBytes: 24683656 * 1024, availableBytes: 24395352 * 1024, swapTotalBytes: 2097148 * 1024, swapFreeBytes: 2097000 * 1024 });
  // Old kernels without MemAvailable: free + buffers + cached.
  assert.equal(parseMeminfo('MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 5 kB\nCached: 20 kB\n').availableBytes, 35 * 1024);
  assert.deepEqual(parseMeminfo('MemTotal: lots\n'), { totalBytes: undefined, availableBytes: undefined, swapTotalBytes: undefined, swapFreeBytes: undefined });
  const stat = 'cpu  100 2 30 4000 5 0 6 0 0 0\ncpu0 50 1 15 2000 2 0 3 0 0 0\ncpu1 50 1 15 2000 3 0 3 0 0 0\nintr 1 2 3\n';
  assert.deepEqual(parseProcStat(stat), { totalTicks: 4143, cores: 2 });
  assert.deepEqual(parseProcStat('cpu  1 x 3\ncpux 1\n'), { totalTicks: undefined, cores: undefined });
  for (const g of GARBAGE) {
    assert.doesNotThrow(() => parseMeminfo(g));
    assert.doesNotThrow(() => parseProcStat(g));
  }
});

test('kB values: "2048 kB" is 2 MiB in bytes; garbage is undefined', () => {
  assert.equal(parseKbValue('2048 kB'), 2 * 1024 * 1024);
  assert.equal(parseKbValue('  7 kB '), 7168);
  assert.equal(parseKbValue('12'), 12);
  for (const g of ['', 'kB', '-1 kB', '1.5 kB', '2048 MB', 'abc', '99999999999999999999 kB']) assert.equal(parseKbValue(g), undefined, g);
  assert.equal(parseKbValue(undefined), undefined);
});

test('formatBytes: the original\'s binary units', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1024), '1.00 KiB');
  assert.equal(formatBytes(1536), '1.50 KiB');
  assert.ok(formatBytes(1024 * 1024).includes('MiB'));
  assert.equal(formatBytes(3 * 1024 ** 3), '3.00 GiB');
  assert.equal(formatBytes(2 * 1024 ** 4), '2.00 TiB');
  for (const g of [undefined, null, NaN, -1, Infinity]) assert.equal(formatBytes(g as number), 'n/a');
});

test('percent, duration and sparkline helpers', () => {
  assert.equal(formatPercent(12.345), '12.35%');
  assert.equal(formatPercent(null), 'n/a');
  assert.equal(formatDuration(42), '42s');
  assert.equal(formatDuration(3 * 60 + 5), '3m 5s');
  assert.equal(formatDuration(2 * 3600 + 60), '2h 1m');
  assert.equal(formatDuration(3 * 86400 + 4 * 3600), '3d 4h');
  assert.equal(formatDuration(-1), 'n/a');
  assert.equal(sparkline([0, 50, 100], { min: 0, max: 100 }), '▁▅█');
  assert.equal(sparkline([undefined, 10], { min: 0, max: 10 }), ' █');
  assert.equal(sparkline([1, 2, 3, 4], { width: 2, min: 0, max: 4 }), '▆█');
  assert.equal(sparkline([]), '');
  assert.equal(sparkline([5, 5], { min: 5, max: 5 }), '▁▁');
});

test('cpuPercent: the original formula, clamped; n/a without a usable delta', () => {
  // 10 process ticks of 200 total ticks on 2 cores → 10%.
  assert.equal(cpuPercent({ procTicks: 100, totalTicks: 1000 }, { procTicks: 110, totalTicks: 1200 }, 2), 10);
  assert.equal(cpuPercent({ procTicks: 0, totalTicks: 0 }, { procTicks: 5000, totalTicks: 1 }, 4), 999.99);
  assert.equal(cpuPercent({ procTicks: 5, totalTicks: 10 }, { procTicks: 5, totalTicks: 10 }, 1), 0);
  assert.equal(cpuPercent({ procTicks: 5, totalTicks: undefined }, { procTicks: 6, totalTicks: 10 }, 1), undefined);
  assert.equal(cpuPercent({ procTicks: 9, totalTicks: 10 }, { procTicks: 5, totalTicks: 20 }, 1), undefined);
});
