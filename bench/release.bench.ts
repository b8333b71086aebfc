// Release package figures: its size (compressed and unpacked) against what `npm install`
// puts on disk for the same runtime (production node_modules, with and without the optional
// OpenTelemetry packages, plus dist/), the time of verify-package, and start-up of the
// unpacked package against the checkout (`--version` and `stats`, medians of 15, with
// `node -e 0` as the floor). Goals: unpacked package <= 1/4 of the npm install; start-up of
// the package <= 1.2x the checkout's.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, lstatSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT, cleanEnv, tempDir } from '../test/helpers.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;

function du(p: string): number {
  const st = lstatSync(p);
  if (!st.isDirectory()) return st.size;
  return readdirSync(p).reduce((n, f) => n + du(join(p, f)), 0);
}

function installed(omitOptional: boolean): number {
  const args = ['ls', '--omit=dev', ...(omitOptional ? ['--omit=optional'] : []), '--parseable', '--all'];
  const dirs = execFileSync('npm', args, { cwd: ROOT, encoding: 'utf8' }).split('\n').filter((d) => d && d !== ROOT);
  // Nested packages are inside their parents' folders: count top-level folders only once.
  const tops = dirs.filter((d) => !dirs.some((o) => o !== d && d.startsWith(o + '/')));
  return tops.reduce((n, d) => n + du(d), 0) + du(join(ROOT, 'dist'));
}

function wall(args: string[], env: Record<string, string>): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { env, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return performance.now() - t0;
}

function main(): void {
  const t = tempDir('rp-bench-release-');
  let tree = '';
  try {
    const out = join(t.dir, 'release');
    const p = JSON.parse(execFileSync(process.execPath, [join(ROOT, 'scripts', 'package.mjs'), '--out', out], { cwd: ROOT, encoding: 'utf8' })) as { compressed_bytes: number; unpacked_bytes: number; elapsed_ms: number; artifact: string };
    const npmAll = installed(false);
    const npmCore = installed(true);
    const ok = p.unpacked_bytes * 4 <= npmCore;
    console.log(`package: ${mb(p.compressed_bytes)} compressed, ${mb(p.unpacked_bytes)} unpacked (built in ${p.elapsed_ms} ms)`);
    console.log(`npm install (production node_modules + dist): ${mb(npmCore)} without optional OpenTelemetry, ${mb(npmAll)} with it`);
    console.log(`size goal (unpacked package <= 1/4 of npm install without optional): ratio ${(p.unpacked_bytes / npmCore).toFixed(3)} ${ok ? 'PASS' : 'MISS'}`);

    const v0 = performance.now();
    const v = JSON.parse(execFileSync(process.execPath, [join(ROOT, 'scripts', 'verify-package.mjs'), p.artifact, '--keep'], { cwd: ROOT, encoding: 'utf8' })) as Record<string, number | string>;
    console.log(`verify-package: ${(performance.now() - v0).toFixed(0)} ms wall (version ${v.version_ms} ms, doctor ${v.doctor_ms} ms, turn ${v.turn_ms} ms, skill ${v.skill_ms} ms, serve ready ${v.serve_ready_ms} ms)`);
    tree = String(v.unpacked);

    const env = cleanEnv(t.dir);
    const pkgCli = join(tree, 'bin', 'rusty-pinch');
    const repoCli = join(ROOT, 'bin', 'rusty-pinch');
    wall([pkgCli, 'stats'], env);
    wall([repoCli, 'stats'], env);
    const r: Record<string, number[]> = { node: [], pkgVersion: [], repoVersion: [], pkgStats: [], repoStats: [] };
    for (let i = 0; i < 15; i++) {
      r.node!.push(wall(['-e', '0'], env));
      r.pkgVersion!.push(wall([pkgCli, '--version'], env));
      r.repoVersion!.push(wall([repoCli, '--version'], env));
      r.pkgStats!.push(wall([pkgCli, 'stats'], env));
      r.repoStats!.push(wall([repoCli, 'stats'], env));
    }
    const m = Object.fromEntries(Object.entries(r).map(([k, xs]) => [k, median(xs)])) as Record<string, number>;
    const ratio = m.pkgStats! / m.repoStats!;
    console.log(`start-up medians: node -e 0 ${m.node!.toFixed(1)} ms; --version package ${m.pkgVersion!.toFixed(1)} ms vs checkout ${m.repoVersion!.toFixed(1)} ms; stats package ${m.pkgStats!.toFixed(1)} ms vs checkout ${m.repoStats!.toFixed(1)} ms`);
    console.log(`start-up goal (package stats <= 1.2x checkout): ratio ${ratio.toFixed(2)} ${ratio <= 1.2 ? 'PASS' : 'MISS'}`);
  } finally {
    t.cleanup();
    if (tree) rmSync(dirname(tree), { recursive: true, force: true });
  }
}

main();
