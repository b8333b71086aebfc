// Builds dist/ from src/ with esbuild: one ESM bundle for the CLI with lazily loaded chunks,
// node_modules left external so the install stays a normal npm install. The new tree is built
// beside the old one and swapped in, so a CLI started during a build never sees a half tree.
// The version comes from package.json (its one source) and is compiled in, so `--version`,
// doctor and the update gate follow `npm version`. scripts/package.mjs reuses buildDist with
// the dependencies bundled in (see docs/release.md).
import { build } from 'esbuild';
import { readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Dependencies that stay outside a bundle: the QuickJS variant finds its .wasm beside its own
 * module, OpenTelemetry is optional (loaded only when configured), ws's native helpers are optional. */
export const BUNDLE_EXTERNALS = ['@jitl/quickjs-wasmfile-release-sync', '@opentelemetry/*', 'bufferutil', 'utf-8-validate'];

export function packageVersion(root = '.') {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  if (typeof pkg.version !== 'string' || !pkg.version) throw new Error('package.json has no version');
  return pkg.version;
}

/**
 * Builds `outdir` (replaced atomically) from `root`'s src/. With `bundleDeps` the npm
 * dependencies are compiled in (minified, no source maps) except BUNDLE_EXTERNALS.
 */
export async function buildDist({ root = '.', outdir = 'dist', bundleDeps = false } = {}) {
  const version = packageVersion(root);
  const target = resolve(root, outdir);
  const tmp = `${target}.build-${process.pid}`;
  await build({
    entryPoints: { cli: join(root, 'src/cli/main.ts') },
    outdir: tmp,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    define: { __RUSTY_PINCH_VERSION__: JSON.stringify(version) },
    chunkNames: 'chunks/[name]-[hash]',
    logLevel: 'warning',
    ...(bundleDeps
      ? {
          external: BUNDLE_EXTERNALS,
          minify: true,
          legalComments: 'none',
          sourcemap: false,
          // CommonJS dependencies call require(); ESM output needs a real one.
          banner: { js: "import { createRequire as __rpCreateRequire } from 'node:module'; const require = __rpCreateRequire(import.meta.url);" },
        }
      : { packages: 'external', sourcemap: 'linked' }),
  });
  const old = `${target}.old-${process.pid}`;
  try {
    renameSync(target, old);
  } catch {
    // first build
  }
  renameSync(tmp, target);
  rmSync(old, { recursive: true, force: true });
  return { version, outdir: target };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await buildDist();
}
