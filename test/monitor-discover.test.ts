// Monitor process discovery: matches on the executable/script being rusty-pinch, never on a
// command line that merely contains the text; skips itself and its wrappers; prefers the
// oldest serve/channels process; labels never carry other arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { classifyArgv, discover } from '../src/monitor/discover.js';
import { ROOT, tempDir } from './helpers.js';
import { start, startDecoy, startRepl, writeFakeBin, type Spawned } from './monitor-fixtures.js';

test('classifyArgv: executable or script named rusty-pinch only', async () => {
  const yes: Array<[string[], string, string | undefined]> = [
    [['node', '/opt/rp/bin/rusty-pinch', 'serve'], 'node rusty-pinch serve', 'serve'],
    [['/usr/local/bin/rusty-pinch', 'channels', 'telegram'], 'rusty-pinch channels', 'channels'],
    [['rusty-pinch'], 'rusty-pinch', undefined],
    [['/usr/bin/node', '--import', 'tsx', '--max-old-space-size=200', 'bin/rusty-pinch', '--verbose', 'repl'], 'node rusty-pinch repl', 'repl'],
    [['node', '/x/bin/rusty-pinch', 'run', '--message', 'sk-secret-123'], 'node rusty-pinch run', 'run'],
    [['node', join(ROOT, 'dist', 'cli.js'), 'serve'], 'node cli.js serve', 'serve'],
  ];
  for (const [argv, label, sub] of yes) {
    const r = await classifyArgv(argv, 'rusty-pinch');
    assert.deepEqual(r, { label, subcommand: sub }, argv.join(' '));
  }
  // A relative dist/cli.js is resolved against the process's cwd.
  assert.equal((await classifyArgv(['node', 'dist/cli.js', 'serve'], 'rusty-pinch', ROOT))?.subcommand, 'serve');
  const no: string[][] = [
    ['node', '-e', 'setTimeout(()=>{},5000)', 'rusty-pinch-decoy'],
    ['node', '--eval=1', '/x/bin/rusty-pinch'],
    ['vim', '/home/me/rusty-pinch/notes.md'],
    ['curl', '-H', 'Authorization: Bearer sk-x', 'https://rusty-pinch.local'],
    ['rusty-pinch-decoy', 'serve'],
    ['node', '/tmp/elsewhere/dist/cli.js', 'serve'],
    ['node', 'dist/cli.js', 'serve'],
    ['python3', '/x/bin/rusty-pinch', 'serve'],
    ['/bin/sh', '-c', 'rusty-pinch serve'],
    [],
    [''],
  ];
  for (const argv of no) assert.equal(await classifyArgv(argv, 'rusty-pinch'), undefined, argv.join(' '));
  assert.equal((await classifyArgv(['node', '/x/bin/rp-worker', 'serve'], 'rp-worker'))?.subcommand, 'serve');
});

test('real processes: the decoy and this process are never candidates; serve beats an older repl', async () => {
  const { dir, cleanup } = tempDir('rp-mondisc-');
  const procs: Spawned[] = [];
  try {
    const repl = await startRepl(dir);
    procs.push(repl);
    const decoy = await startDecoy();
    procs.push(decoy);
    const fakeBin = writeFakeBin(dir, 'rusty-pinch');
    const serve = await start(process.execPath, [fakeBin, 'serve', '--token', 'sk-SECRET-42']);
    procs.push(serve);
    const otherMonitor = await start(process.execPath, [fakeBin, 'monitor']);
    procs.push(otherMonitor);

    const all = await discover();
    const pids = all.candidates.map((c) => c.pid);
    assert.ok(pids.includes(repl.pid), 'the real repl is a candidate');
    assert.ok(pids.includes(serve.pid), 'the serve stand-in is a candidate');
    assert.ok(!pids.includes(decoy.pid), 'the decoy is not');
    assert.ok(!pids.includes(process.pid), 'the monitor itself is not');
    assert.ok(!pids.includes(otherMonitor.pid), 'another monitor is not');
    assert.ok(!JSON.stringify(all).includes('sk-SECRET-42'), 'no argument beyond the subcommand leaks');

    const scoped = [repl.pid, decoy.pid, serve.pid, otherMonitor.pid, process.pid];
    const d = await discover({ pids: scoped });
    assert.equal(d.chosen?.pid, serve.pid);
    assert.equal(d.chosen?.label, 'node rusty-pinch serve');
    assert.match(d.reason, /oldest 'serve' process of 2 matching processes/);

    const d2 = await discover({ pids: [repl.pid, decoy.pid, process.pid] });
    assert.equal(d2.chosen?.pid, repl.pid);
    assert.equal(d2.reason, 'the only matching process');

    const none = await discover({ pids: [decoy.pid, process.pid] });
    assert.equal(none.chosen, undefined);
    assert.match(none.reason, /no process whose executable or script is 'rusty-pinch'/);
  } finally {
    for (const p of procs) p.kill();
    cleanup();
  }
});

test('a rusty-pinch wrapper of the monitor (its ancestor) is skipped', async () => {
  const { dir, cleanup } = tempDir('rp-monwrap-');
  const procs: Spawned[] = [];
  let grandchild = 0;
  try {
    const fakeBin = writeFakeBin(dir, 'rusty-pinch');
    // The wrapper runs `rusty-pinch wrap`, i.e. looks like a rusty-pinch process, and its child
    // plays the monitor.
    const wrapper = await start(process.execPath, [fakeBin, 'wrap']);
    procs.push(wrapper);
    grandchild = await new Promise<number>((resolve, reject) => {
      wrapper.child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      wrapper.child.once('exit', () => reject(new Error('wrapper exited')));
    });
    const sibling = await start(process.execPath, [fakeBin, 'repl']);
    procs.push(sibling);
    const asMonitor = await discover({ selfPid: grandchild, pids: [wrapper.pid, sibling.pid, grandchild] });
    assert.equal(asMonitor.chosen?.pid, sibling.pid);
    assert.deepEqual(asMonitor.candidates.map((c) => c.pid), [sibling.pid]);
    // Seen from elsewhere, the wrapper is a normal (older) candidate.
    const fromOutside = await discover({ pids: [wrapper.pid, sibling.pid] });
    assert.equal(fromOutside.chosen?.pid, wrapper.pid);
  } finally {
    if (grandchild > 0) {
      try {
        process.kill(grandchild, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const p of procs) p.kill();
    cleanup();
  }
});

test('garbage in a fake /proc never crashes discovery', async () => {
  const { dir, cleanup } = tempDir('rp-mongarb-');
  try {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const entries: Record<string, Record<string, string>> = {
      '10': { cmdline: 'node\0/x/bin/rusty-pinch\0serve\0', stat: 'garbage' },
      '11': { cmdline: '\0\0\0', stat: '11 (x) S 1 11 11 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0 0' },
      '12': { cmdline: 'rusty-pinch\0channels\0', stat: '12 (rusty-pinch) S 1 12 12 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 7 0 0' },
      '13': { cmdline: 'rusty-pinch\0serve\0', stat: '13 (rusty-pinch) Z 1 13 13 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 3 0 0' },
      abc: { cmdline: 'rusty-pinch\0serve\0' },
    };
    for (const [pid, files] of Object.entries(entries)) {
      mkdirSync(join(dir, pid));
      for (const [f, t] of Object.entries(files)) writeFileSync(join(dir, pid, f), t);
    }
    const d = await discover({ procRoot: dir, selfPid: 999 });
    assert.deepEqual(d.candidates.map((c) => c.pid), [12], 'garbage stat, empty cmdline, zombie and non-numeric skipped');
    assert.equal(d.chosen?.subcommand, 'channels');
    const empty = await discover({ procRoot: join(dir, 'missing') });
    assert.equal(empty.chosen, undefined);
  } finally {
    cleanup();
  }
});
