// Release packages for the self-update tests, in the layout of `npm run package` (TEAM.md):
// a gzip tar with ONE top directory `rusty-pinch-<version>/`. `fakeRelease` is a tiny tree whose
// dist/cli.js prints its version (and runs `behaviour` first); `realRelease` copies this repo's
// bin/, dist/, assets/, package.json and production node_modules/ with the version changed.
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { create } from 'tar';
import { ROOT } from './helpers.js';

export interface Release {
  tarball: string;
  sha256: string;
  version: string;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function pack(workDir: string, version: string, fill: (tree: string) => void): Promise<Release> {
  const stage = join(workDir, `pack-${version}-${Math.random().toString(36).slice(2, 8)}`);
  const top = `rusty-pinch-${version}`;
  mkdirSync(join(stage, top), { recursive: true });
  fill(join(stage, top));
  const tarball = join(workDir, `${top}-${process.platform}-${process.arch}-${Math.random().toString(36).slice(2, 6)}.tar.gz`);
  await create({ gzip: true, file: tarball, cwd: stage, portable: true }, [top]);
  return { tarball, sha256: sha256(tarball), version };
}

/** `behaviour` is JS run first in dist/cli.js (e.g. fail `doctor`); then it prints `version`. */
export function fakeRelease(workDir: string, version: string, behaviour = ''): Promise<Release> {
  return pack(workDir, version, (tree) => {
    mkdirSync(join(tree, 'dist'), { recursive: true });
    mkdirSync(join(tree, 'bin'), { recursive: true });
    writeFileSync(join(tree, 'package.json'), JSON.stringify({ name: 'rusty-pinch', version, type: 'module' }, null, 2));
    writeFileSync(join(tree, 'dist', 'cli.js'), `${behaviour}\nconsole.log(${JSON.stringify(version)});\n`);
    writeFileSync(join(tree, 'bin', 'rusty-pinch'), '#!/usr/bin/env node\nimport("../dist/cli.js");\n', { mode: 0o755 });
  });
}

let prodModules: string[] | undefined;

/** A runnable copy of this repo (needs dist/ built), version changed; `patchCli` prepends JS to dist/cli.js. */
export function realRelease(workDir: string, version: string, patchCli = ''): Promise<Release> {
  prodModules ??= execFileSync('npm', ['ls', '--omit=dev', '--parseable', '--all'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith(join(ROOT, 'node_modules') + '/'));
  const repoVersion = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return pack(workDir, version, (tree) => {
    for (const d of ['bin', 'dist', 'assets']) cpSync(join(ROOT, d), join(tree, d), { recursive: true, verbatimSymlinks: true });
    for (const f of ['README.md', '.env.example']) cpSync(join(ROOT, f), join(tree, f));
    for (const m of prodModules!) cpSync(m, join(tree, m.slice(ROOT.length + 1)), { recursive: true, verbatimSymlinks: true });
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(tree, 'package.json'), JSON.stringify({ ...pkg, version }, null, 2) + '\n');
    // Until the build injects package.json's version, the built dist carries the repo's literal.
    const patchVersion = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) patchVersion(p);
        else if (name.endsWith('.js')) writeFileSync(p, readFileSync(p, 'utf8').split(JSON.stringify(repoVersion)).join(JSON.stringify(version)));
      }
    };
    patchVersion(join(tree, 'dist'));
    if (patchCli) writeFileSync(join(tree, 'dist', 'cli.js'), `${patchCli}\n${readFileSync(join(tree, 'dist', 'cli.js'), 'utf8')}`);
  });
}

/**
 * The real thing: `npm run package` (scripts/package.mjs) on a copy of this checkout whose
 * package.json says `version`; `patchCli` is prepended to src/cli/main.ts (e.g. a broken doctor).
 */
export function packagedRelease(workDir: string, version: string, patchCli = ''): Release {
  const copy = join(workDir, `repo-${version}-${Math.random().toString(36).slice(2, 6)}`);
  mkdirSync(copy, { recursive: true });
  for (const f of ['src', 'scripts', 'bin', 'assets', 'docs', 'deploy', 'README.md', 'SECURITY.md', '.env.example', 'tsconfig.json']) {
    if (existsSync(join(ROOT, f))) cpSync(join(ROOT, f), join(copy, f), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(copy, 'package.json'), JSON.stringify({ ...pkg, version }, null, 2) + '\n');
  if (patchCli) writeFileSync(join(copy, 'src', 'cli', 'main.ts'), `${patchCli}\n${readFileSync(join(copy, 'src', 'cli', 'main.ts'), 'utf8')}`);
  const out = join(copy, 'release');
  execFileSync(process.execPath, ['scripts/package.mjs', '--out', out], { cwd: copy, stdio: ['ignore', 'ignore', 'pipe'] });
  const tarball = readdirSync(out)
    .filter((f) => f.endsWith('.tar.gz'))
    .map((f) => join(out, f))[0]!;
  return { tarball, sha256: sha256(tarball), version };
}
