// The version has one source, package.json: a build carries it into dist/, so `npm version`
// changes what `--version` and doctor print (and what the update gate compares).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, cleanEnv, runCli, tempDir } from './helpers.js';
import { VERSION } from '../src/kernel/index.js';

const pkgVersion = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

test('--version and doctor print package.json version', async () => {
  const t = tempDir();
  try {
    assert.equal(VERSION, pkgVersion);
    const v = await runCli(['--version'], { env: cleanEnv(t.dir) });
    assert.equal(v.code, 0);
    assert.equal(v.stdout.trim(), pkgVersion);
    const d = await runCli(['doctor', '--json'], { env: cleanEnv(t.dir) });
    assert.equal((JSON.parse(d.stdout) as { version: string }).version, pkgVersion);
  } finally {
    t.cleanup();
  }
});

test('a build after `npm version` carries the new version, even when dist/ is moved away from package.json', async () => {
  const t = tempDir();
  try {
    // A checkout whose package.json says 9.8.7-test (what `npm version` would write).
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(t.dir, 'package.json'), JSON.stringify({ ...pkg, version: '9.8.7-test' }));
    symlinkSync(join(ROOT, 'src'), join(t.dir, 'src'));
    symlinkSync(join(ROOT, 'node_modules'), join(t.dir, 'node_modules'));
    const b = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: t.dir, encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
    const env = cleanEnv(t.dir);
    const v = spawnSync(process.execPath, [join(t.dir, 'dist', 'cli.js'), '--version'], { env, encoding: 'utf8' });
    assert.equal(v.stdout.trim(), '9.8.7-test');
    // The version is compiled in: a package.json elsewhere does not change it.
    writeFileSync(join(t.dir, 'package.json'), JSON.stringify({ ...pkg, version: '0.0.1' }));
    const d = spawnSync(process.execPath, [join(t.dir, 'dist', 'cli.js'), 'doctor', '--json'], { env, encoding: 'utf8' });
    assert.equal((JSON.parse(d.stdout) as { version: string }).version, '9.8.7-test');
  } finally {
    t.cleanup();
  }
});

test('on a Node.js older than engines allows, the CLI says so in one line and exits 1', () => {
  const t = tempDir();
  try {
    // Pretend to be Bookworm's Node 18 before the CLI's first module runs.
    const preload = join(t.dir, 'old-node.mjs');
    writeFileSync(preload, "Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '18.19.0' } });\n");
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(preload).href, join(ROOT, 'bin', 'rusty-pinch'), 'doctor'], { env: cleanEnv(t.dir), encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'Error: rusty-pinch needs Node.js 20 or newer (this is 18.19.0); see docs/runbook-raspberry-pi.md\n');
  } finally {
    t.cleanup();
  }
});
