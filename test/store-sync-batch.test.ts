// Group commit across files (src/store/sync-batch.ts): many files flushed in one turn of the loop
// go to helper threads as batches; every flush resolves once its file is synced, a failure is
// reported to that file's callers only, and the helpers never keep a finished process alive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppendFile } from '../src/store/index.js';
import { syncInBatch } from '../src/store/sync-batch.js';
import { ROOT, tempDir } from './helpers.js';

test('flushes of many files in one turn all resolve, with every line in its file', async () => {
  const { dir, cleanup } = tempDir();
  const files = Array.from({ length: 24 }, (_, i) => new AppendFile(join(dir, `f${i}.jsonl`)));
  try {
    for (let round = 0; round < 3; round++) {
      await Promise.all(files.map((f, i) => (f.append(`{"round":${round},"file":${i}}\n`), f.flush())));
    }
    for (const [i, f] of files.entries()) {
      assert.equal(f.busy, false);
      assert.deepEqual(readFileSync(f.path, 'utf8').trim().split('\n').map((l) => JSON.parse(l).file), [i, i, i]);
    }
  } finally {
    for (const f of files) f.close();
    cleanup();
  }
});

test('a file that cannot be synced fails for its callers only', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const fds = Array.from({ length: 6 }, (_, i) => openSync(join(dir, `g${i}`), 'w'));
    const bad = openSync(join(dir, 'bad'), 'w');
    closeSync(bad); // a descriptor that no longer exists
    const results = await Promise.allSettled([...fds.map((fd) => syncInBatch(fd)), syncInBatch(bad), syncInBatch(fds[0]!)]);
    assert.deepEqual(
      results.map((r) => r.status),
      [...fds.map(() => 'fulfilled'), 'rejected', 'fulfilled'],
    );
    assert.equal(((results[fds.length] as PromiseRejectedResult).reason as NodeJS.ErrnoException).code, 'EBADF');
    for (const fd of fds) closeSync(fd);
  } finally {
    cleanup();
  }
});

test('a process whose flushes are done exits on its own (helper threads never hold it)', () => {
  const { dir, cleanup } = tempDir();
  try {
    const script = join(dir, 'flush.mts');
    writeFileSync(
      script,
      `import { AppendFile } from ${JSON.stringify(join(ROOT, 'src/store/index.ts'))};
const files = Array.from({ length: 8 }, (_, i) => new AppendFile(${JSON.stringify(dir)} + '/h' + i));
await Promise.all(files.map((f) => (f.append('x\\n'), f.flush())));
console.log('flushed');`,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'flushed');
  } finally {
    cleanup();
  }
});
