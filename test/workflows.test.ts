// The GitHub workflows stay valid (schema-checked by action-validator) and keep doing what
// docs/release.md says: tests on Node 20/22/24, package + verify, tagged releases with
// SHA256SUMS, a multi-arch image. Every npm script and script file they call exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { parse as parseYaml } from 'yaml';
import { ROOT, tempDir } from './helpers.js';

const DIR = join(ROOT, '.github', 'workflows');
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
type Step = { run?: string; uses?: string; with?: Record<string, unknown> };
type Workflow = { on: Record<string, unknown>; jobs: Record<string, { steps: Step[]; strategy?: { matrix?: Record<string, unknown[]> } }> };
const load = (name: string) => parseYaml(readFileSync(join(DIR, name), 'utf8')) as Workflow;
const runs = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps.map((s) => s.run ?? '')).join('\n');

test('every workflow passes the GitHub workflow schema', () => {
  const files = readdirSync(DIR).sort();
  assert.deepEqual(files, ['ci.yml', 'docker-publish.yml', 'release.yml']);
  for (const f of files) {
    const r = validateWorkflow(readFileSync(join(DIR, f), 'utf8'));
    assert.deepEqual(r.errors, [], f);
  }
  // The validator does catch a broken one.
  assert.notDeepEqual(validateWorkflow('name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n').errors, []);
});

test('workflows call only npm scripts and files that exist', () => {
  for (const f of readdirSync(DIR)) {
    const text = runs(load(f));
    for (const m of text.matchAll(/npm run ([\w:-]+)/g)) assert.ok(scripts[m[1]!], `${f}: npm run ${m[1]}`);
    for (const m of text.matchAll(/node (scripts\/[\w.-]+)/g)) assert.ok(existsSync(join(ROOT, m[1]!)), `${f}: ${m[1]}`);
    for (const m of text.matchAll(/(deploy\/[\w./-]+)/g)) assert.ok(existsSync(join(ROOT, m[1]!.replace(/\/\*.*$/, ''))), `${f}: ${m[1]}`);
  }
});

test('ci tests on Node 20, 22 and 24 and packages; release runs on v* tags; the image is multi-arch', () => {
  const ci = load('ci.yml');
  assert.deepEqual(ci.jobs.test!.strategy!.matrix!.node, [20, 22, 24]);
  assert.match(runs(ci), /npm test/);
  assert.match(runs(ci), /npm run package[\s\S]*npm run verify-package/);
  const release = load('release.yml');
  assert.deepEqual((release.on.push as { tags: string[] }).tags, ['v*']);
  assert.match(runs(release), /node scripts\/release-sums\.mjs/);
  assert.match(runs(release), /gh release create/);
  const docker = load('docker-publish.yml');
  const build = Object.values(docker.jobs).flatMap((j) => j.steps).find((s) => s.uses?.startsWith('docker/build-push-action'))!;
  assert.equal(build.with!.platforms, 'linux/arm64,linux/amd64');
  assert.equal(build.with!.file, 'deploy/container/Dockerfile');
  assert.match(String(build.with!['build-args']), /RUSTY_PINCH_INSTALL_CODEX_CLI=true/);
});

test('release-sums writes SHA256SUMS over every tarball of the folder, and refuses garbage', () => {
  const t = tempDir();
  try {
    writeFileSync(join(t.dir, 'rusty-pinch-1.0.0-linux-x64.tar.gz'), 'a');
    writeFileSync(join(t.dir, 'rusty-pinch-1.0.0-darwin-arm64.tar.gz'), 'b');
    writeFileSync(join(t.dir, 'notes.txt'), 'c');
    const run = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'scripts', 'release-sums.mjs'), ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    const r = run(['--dir', t.dir]);
    assert.equal(r.status, 0, r.stderr);
    const sums = readFileSync(join(t.dir, 'SHA256SUMS'), 'utf8').trim().split('\n');
    assert.deepEqual(sums.map((l) => l.split('  ')[1]), ['rusty-pinch-1.0.0-darwin-arm64.tar.gz', 'rusty-pinch-1.0.0-linux-x64.tar.gz']);
    assert.equal(sums[1]!.split('  ')[0], 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb'); // sha256("a")
    assert.equal(run(['--dir', join(t.dir, 'nope')]).status, 1);
    assert.equal(run(['--what']).status, 2);
  } finally {
    t.cleanup();
  }
});
