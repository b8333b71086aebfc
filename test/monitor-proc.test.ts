// Monitor readers against real /proc and a fake /proc tree of garbage; storage walk bounds
// and symlinks; statfs; the telemetry summary on broken files; the collector end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleHost, sampleProcess } from '../src/monitor/proc-sample.js';
import { dirSize, filesystemUsage } from '../src/monitor/storage.js';
import { readTelemetrySummary, summarizeTelemetry } from '../src/monitor/telemetry-summary.js';
import { MonitorCollector } from '../src/monitor/collector.js';
import { renderSnapshot } from '../src/monitor/render.js';
import { tempDir } from './helpers.js';

function fakeProc(root: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
}

test('real /proc: this process and the host have sane figures', async () => {
  const host = await sampleHost();
  assert.ok((host.cores ?? 0) >= 1);
  assert.ok((host.totalTicks ?? 0) > 0);
  assert.ok((host.memTotalBytes ?? 0) > 0);
  assert.equal(host.loadavg?.length, 3);
  const me = await sampleProcess(process.pid, '/proc', host.uptimeSecs);
  assert.ok(me);
  assert.equal(me.ppid, process.ppid);
  assert.ok((me.rssBytes ?? 0) > 1024 * 1024, 'node uses more than 1 MiB');
  assert.ok((me.fdCount ?? 0) >= 3);
  assert.ok((me.threads ?? 0) >= 1);
  assert.ok(me.uptimeSecs !== undefined && me.uptimeSecs >= 0 && me.uptimeSecs < 3600);
  assert.equal(await sampleProcess(2 ** 30), undefined, 'no such pid');
});

test('fake /proc full of garbage: fields unavailable, never a crash', async () => {
  const { dir, cleanup } = tempDir('rp-monproc-');
  try {
    fakeProc(dir, {
      stat: 'cpu garbage\nintr x\n',
      loadavg: 'not a loadavg',
      meminfo: 'MemTotal: banana\n',
      uptime: '',
      '77/stat': '77 (weird) proc) S 1 77 77 0 -1 0 0 0 0 0 10 20 0 0 20 0 3 0 500 4096 10 0',
      '77/status': '\0\0\xff binary junk',
      '77/statm': 'x y z',
      '77/io': 'read_bytes: -3\n',
      '78/stat': 'total garbage',
    });
    mkdirSync(join(dir, '77', 'fd'));
    writeFileSync(join(dir, '77', 'fd', '0'), '');
    const host = await sampleHost(dir);
    assert.deepEqual(host, { totalTicks: undefined, cores: undefined, loadavg: undefined, memTotalBytes: undefined, memAvailableBytes: undefined, swapTotalBytes: undefined, swapFreeBytes: undefined, uptimeSecs: undefined });
    const p = await sampleProcess(77, dir, undefined);
    assert.ok(p);
    assert.equal(p.cpuTicks, 30);
    assert.equal(p.rssBytes, undefined);
    assert.equal(p.vmsBytes, 4096, 'falls back to the stat vsize');
    assert.equal(p.readBytes, undefined);
    assert.equal(p.fdCount, 1);
    assert.equal(p.uptimeSecs, undefined);
    assert.equal(await sampleProcess(78, dir), undefined, 'garbage stat = not found');
    assert.equal(await sampleProcess(79, dir), undefined);
    // The collector renders all of that as n/a.
    const c = new MonitorCollector({ pid: 77, match: 'rusty-pinch', intervalMs: 1000, storageRefreshTicks: 10, dataDir: join(dir, 'nodata'), workspace: join(dir, 'nows'), telemetryFile: join(dir, 'none.json'), provider: 'local', model: 'local', procRoot: dir });
    await c.prime();
    const snap = await c.tick();
    assert.equal(snap.process?.pid, 77);
    assert.equal(snap.process?.cpu_percent, null);
    const text = renderSnapshot(snap, { live: true }).join('\n');
    assert.match(text, /cpu: n\/a \| rss: n\/a/);
    assert.match(text, /loadavg: n\/a \| cpu_cores: n\/a/);
    assert.match(text, /telemetry: unavailable/);
  } finally {
    cleanup();
  }
});

test('dirSize: lstat walk, symlinks not followed, missing dir is 0, bounds give a partial result', async () => {
  const { dir, cleanup } = tempDir('rp-monsize-');
  try {
    const root = join(dir, 'data');
    mkdirSync(join(root, 'a', 'b'), { recursive: true });
    writeFileSync(join(root, 'one'), 'x'.repeat(1000));
    writeFileSync(join(root, 'a', 'b', 'two'), 'y'.repeat(500));
    const big = join(dir, 'outside');
    mkdirSync(big);
    writeFileSync(join(big, 'huge'), 'z'.repeat(100_000));
    symlinkSync(big, join(root, 'link-to-outside'));
    symlinkSync(join(root, 'a'), join(root, 'a', 'b', 'loop'));
    const s = await dirSize(root);
    assert.equal(s.complete, true);
    assert.ok(s.bytes >= 1500 && s.bytes < 1500 + 1000, `symlink targets not counted: ${s.bytes}`);
    const missing = await dirSize(join(dir, 'nope'));
    assert.deepEqual(missing, { bytes: 0, entries: 0, complete: true, missing: true });
    for (let i = 0; i < 50; i++) writeFileSync(join(root, `f${i}`), 'q');
    const bounded = await dirSize(root, { maxEntries: 10 });
    assert.equal(bounded.complete, false);
    assert.equal(bounded.entries, 10);
    const timed = await dirSize(root, { timeBudgetMs: -1 });
    assert.equal(timed.complete, false);
  } finally {
    cleanup();
  }
});

test('filesystemUsage: statfs of the nearest existing ancestor', async () => {
  const { dir, cleanup } = tempDir('rp-monfs-');
  try {
    const fs = await filesystemUsage(join(dir, 'not', 'yet', 'created'));
    assert.ok(fs);
    assert.equal(fs.path, dir);
    assert.ok(fs.totalBytes > 0 && fs.usedBytes <= fs.totalBytes && fs.availBytes <= fs.totalBytes);
    assert.ok(fs.usePercent >= 0 && fs.usePercent <= 100);
  } finally {
    cleanup();
  }
});

test('telemetry summary: counters, last turn; broken files are unavailable, not fatal', async () => {
  const { dir, cleanup } = tempDir('rp-montel-');
  try {
    const file = join(dir, 'latest.json');
    writeFileSync(file, JSON.stringify({ schema_version: 1, updated_at: '2025-01-01T00:00:00Z', total_turns: 5, ok_turns: 4, error_turns: 1, provider_turns: 3, tool_turns: 1, skill_turns: 1, last_turn: { request_id: 'rp-1', path: 'tool', status: 'ok', session_id: 's1' } }));
    const ok = await readTelemetrySummary(file);
    assert.equal(ok.status, 'ok');
    assert.equal(ok.total_turns, 5);
    assert.equal(ok.error_turns, 1);
    assert.equal(ok.last_turn?.request_id, 'rp-1');
    assert.deepEqual(await readTelemetrySummary(join(dir, 'missing.json')), { status: 'unavailable', reason: 'no telemetry file yet' });
    for (const bad of ['{not json', '[]', '42', 'null', '"x"', '']) {
      writeFileSync(file, bad);
      assert.equal((await readTelemetrySummary(file)).status, 'unavailable', bad);
    }
    assert.equal((await readTelemetrySummary(dir)).status, 'unavailable', 'a directory');
    const odd = summarizeTelemetry({ total_turns: 'many', ok_turns: -1, last_turn: 'x', codex: [1] });
    assert.equal(odd.status, 'ok');
    assert.equal(odd.total_turns, undefined);
    assert.equal(odd.ok_turns, undefined);
    assert.equal(odd.last_turn, null);
    assert.equal(odd.codex, null);
  } finally {
    cleanup();
  }
});

test('collector: storage refreshed every N ticks only', async () => {
  const { dir, cleanup } = tempDir('rp-moncol-');
  try {
    const data = join(dir, 'data');
    mkdirSync(data);
    // A long interval gives the storage walk its full time budget (1 s), so a busy machine cannot cut the count short.
    const c = new MonitorCollector({ pid: process.pid, match: 'rusty-pinch', intervalMs: 2000, storageRefreshTicks: 3, dataDir: data, workspace: join(dir, 'ws'), telemetryFile: join(dir, 't.json'), provider: 'local', model: 'local' });
    const sizes: Array<number | null | undefined> = [];
    for (let i = 0; i < 4; i++) {
      writeFileSync(join(data, `f${i}`), 'x'.repeat(100));
      sizes.push((await c.tick()).storage?.data_dir_bytes);
    }
    assert.deepEqual(sizes, [100, 100, 100, 400]);
  } finally {
    cleanup();
  }
});

test('collector: rediscovers on storage refresh ticks, so a later serve takes over from a repl', async () => {
  const { dir, cleanup } = tempDir('rp-monswitch-');
  try {
    const stat = (pid: number, start: number) => `${pid} (node) S 1 ${pid} ${pid} 0 -1 0 0 0 0 0 10 10 0 0 20 0 1 0 ${start} 4096 1 0`;
    fakeProc(dir, { stat: 'cpu  1 1 1 1\ncpu0 1 1 1 1\n', '20/cmdline': 'node\0/x/bin/rusty-pinch\0repl\0', '20/stat': stat(20, 100) });
    const c = new MonitorCollector({ match: 'rusty-pinch', intervalMs: 10, storageRefreshTicks: 2, dataDir: join(dir, 'd'), workspace: join(dir, 'w'), telemetryFile: join(dir, 't'), provider: 'local', model: 'local', procRoot: dir });
    assert.equal((await c.tick()).process?.pid, 20);
    fakeProc(dir, { '30/cmdline': 'node\0/x/bin/rusty-pinch\0serve\0', '30/stat': stat(30, 200) });
    assert.equal((await c.tick()).process?.pid, 20, 'no rediscovery between refreshes');
    const s = await c.tick();
    assert.equal(s.process?.pid, 30);
    assert.match(s.process?.chosen ?? '', /oldest 'serve' process of 2/);
    // The watched process vanishes: the next tick falls back to what is left.
    rmSync(join(dir, '30'), { recursive: true });
    const after = await c.tick();
    assert.equal(after.process?.pid, 20);
    rmSync(join(dir, '20'), { recursive: true });
    const none = await c.tick();
    assert.equal(none.process, null);
    assert.match(none.process_missing ?? '', /no process whose executable or script is 'rusty-pinch'/);
  } finally {
    cleanup();
  }
});
