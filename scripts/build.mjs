// Builds dist/ from src/ with esbuild: one ESM bundle for the CLI with lazily loaded chunks,
// node_modules left external so the install stays a normal npm install. The new tree is built
// beside the old one and swapped in, so a CLI started during a build never sees a half tree.
import { build } from 'esbuild';
import { renameSync, rmSync } from 'node:fs';

const tmp = `dist.build-${process.pid}`;
await build({
  entryPoints: { cli: 'src/cli/main.ts' },
  outdir: tmp,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
// The launcher's slot check, on its own (no shared chunks): bin/rusty-pinch loads it on every
// start, and it must come from the installed build, never from the slot it verifies.
// The first step stays tiny (no node:crypto); it imports the slot check only when a marker exists.
for (const [name, entry] of [['launcher', 'src/evolution/launch.ts'], ['launch-verify', 'src/evolution/launch-verify.ts']]) {
  await build({
    entryPoints: { [name]: entry },
    outdir: tmp,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    external: ['./launch-verify.js'],
    logLevel: 'warning',
  });
}
const old = `dist.old-${process.pid}`;
try {
  renameSync('dist', old);
} catch {
  // first build
}
renameSync(tmp, 'dist');
rmSync(old, { recursive: true, force: true });
