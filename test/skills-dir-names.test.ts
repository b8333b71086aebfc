// The skill names the prompt lists on every turn (src/skills/dir-names.ts): read again only when
// the directory changed, seen through a watch; changes by another writer, two changes in the
// same timestamp tick, a removed and recreated directory, a missing one, garbage file names.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';
import { DirNames } from '../src/skills/dir-names.js';
import { SkillManager } from '../src/skills/manager.js';
import { loadSettings } from '../src/config/index.js';

const { dir, cleanup } = tempDir('rp-dir-names-');
after(cleanup);

const pickJs = (files: string[]): string[] => files.filter((f) => f.endsWith('.js')).sort();

/** Waits (on the watch's events, polled) until get() answers `want`. */
async function until(names: DirNames, want: string[], ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const got = names.get();
    if (JSON.stringify(got) === JSON.stringify(want)) return;
    if (Date.now() > end) assert.deepEqual(got, want, 'names never caught up');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a change by another writer is seen, including two within one timestamp tick', async () => {
  const d = join(dir, 'a');
  mkdirSync(d);
  const names = new DirNames(d, pickJs);
  try {
    assert.deepEqual(names.get(), []);
    writeFileSync(join(d, 'one.js'), '');
    await until(names, ['one.js']);
    // Read, then changed at once (same mtime tick as the read is likely): still caught.
    writeFileSync(join(d, 'two.js'), '');
    writeFileSync(join(d, 'three.js'), '');
    await until(names, ['one.js', 'three.js', 'two.js']);
    // A read between two writes in one tick: an mtime check cannot tell them apart.
    writeFileSync(join(d, 'five.js'), '');
    names.get();
    writeFileSync(join(d, 'six.js'), '');
    await until(names, ['five.js', 'one.js', 'six.js', 'three.js', 'two.js']);
    rmSync(join(d, 'one.js'));
    renameSync(join(d, 'two.js'), join(d, 'four.js'));
    await until(names, ['five.js', 'four.js', 'six.js', 'three.js']);
    // Unchanged: the same array answers (no read of the directory).
    assert.equal(names.get(), names.get());
  } finally {
    names.close();
  }
});

test('a removed, then recreated directory is followed; a missing one has no names', async () => {
  const d = join(dir, 'b');
  const names = new DirNames(d, pickJs);
  try {
    assert.deepEqual(names.get(), [], 'missing directory');
    mkdirSync(d);
    writeFileSync(join(d, 'x.js'), '');
    await until(names, ['x.js']);
    rmSync(d, { recursive: true });
    await until(names, []);
    mkdirSync(d);
    writeFileSync(join(d, 'y.js'), '');
    await until(names, ['y.js']);
    writeFileSync(join(d, 'z.js'), '');
    await until(names, ['y.js', 'z.js']);
  } finally {
    names.close();
  }
});

test('after close() it still answers, by reading', () => {
  const d = join(dir, 'c');
  mkdirSync(d);
  const names = new DirNames(d, pickJs);
  names.get();
  names.close();
  writeFileSync(join(d, 'late.js'), '');
  // No watch now: the first get() after close reads again and watches anew.
  assert.deepEqual(names.get(), ['late.js']);
  names.close();
});

test('SkillManager.names lists valid skill names only, sorted, and follows the directory', async () => {
  const ws = join(dir, 'ws');
  const settings = loadSettings({ RUSTY_PINCH_DATA_DIR: join(dir, 'data'), RUSTY_PINCH_WORKSPACE: ws }, dir);
  const m = new SkillManager(ws, settings.skills, { assetsDir: null });
  try {
    assert.deepEqual(m.names(), []);
    mkdirSync(join(ws, 'skills'), { recursive: true });
    for (const f of ['zeta.js', 'alpha.js', 'Bad Name.js', 'notes.txt', `${'x'.repeat(65)}.js`, '.js']) writeFileSync(join(ws, 'skills', f), '');
    const end = Date.now() + 10_000;
    while (m.names().length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(m.names(), ['alpha', 'zeta']);
  } finally {
    await m.close();
  }
});
