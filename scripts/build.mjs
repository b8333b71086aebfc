// Builds dist/ from src/ with esbuild: one ESM bundle for the CLI with lazily loaded chunks,
// node_modules left external so the install stays a normal npm install. The new tree is built
// beside the old one and swapped in, so a CLI started during a build never sees a half tree.
// The version comes from package.json (its one source) and is compiled in, so `--version`,
// doctor and the update gate follow `npm version`. scripts/package.mjs reuses buildDist with
// the dependencies bundled in (see docs/release.md).
import { build } from 'esbuild';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** Dependencies that stay outside a bundle: the QuickJS variant finds its .wasm beside its own
 * module; the OpenTelemetry SDK and exporters are optional (loaded only when configured; the
 * small @opentelemetry/api is bundled, prom-client needs it); ws's native helpers are optional. */
export const OPTIONAL_EXTERNALS = ['@opentelemetry/resources', '@opentelemetry/sdk-trace', '@opentelemetry/sdk-metrics', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/exporter-metrics-otlp-http', 'bufferutil', 'utf-8-validate'];
export const BUNDLE_EXTERNALS = ['@jitl/quickjs-wasmfile-release-sync', ...OPTIONAL_EXTERNALS];

/** First statement of every output file: a clear error on a Node.js older than `engines` allows. */
const NODE_GUARD =
  "if (+process.versions.node.split('.')[0] < 20) { process.stderr.write('Error: rusty-pinch needs Node.js 20 or newer (this is ' + process.versions.node + '); see docs/runbook-raspberry-pi.md\\n'); process.exit(1); }";

export function packageVersion(root = '.') {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  if (typeof pkg.version !== 'string' || !pkg.version) throw new Error('package.json has no version');
  return pkg.version;
}

/**
 * With code splitting, esbuild turns `await import('cjs-package')` into a chunk that has only a
 * default export, so `(await import('prom-client')).Registry` is undefined in a bundle (Node
 * itself gives CommonJS modules named exports). This plugin routes each dynamic import of a
 * bundled CommonJS package through a small ESM module that re-exports its names, found by
 * loading the package once at build time. ESM packages and externals are left alone.
 */
function isCommonJs(file) {
  if (file.endsWith('.cjs')) return true;
  if (!file.endsWith('.js')) return false;
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).type !== 'module';
  }
  return true;
}

function cjsDynamicImportInterop(root) {
  const req = createRequire(join(resolve(root), 'package.json'));
  const names = new Map();
  const exportNames = (spec) => {
    if (!names.has(spec)) {
      let keys;
      try {
        keys = Object.keys(req(spec)).filter((k) => k !== 'default' && /^[A-Za-z_$][\w$]*$/.test(k));
      } catch {
        keys = undefined; // ESM-only or not loadable here: leave it to esbuild
      }
      names.set(spec, keys);
    }
    return names.get(spec);
  };
  return {
    name: 'cjs-dynamic-import-interop',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.kind !== 'dynamic-import' || args.namespace === 'rp-interop') return undefined;
        if (BUNDLE_EXTERNALS.includes(args.path) || args.path.startsWith('node:')) return undefined;
        // Only when esbuild would pick a CommonJS file for an import (not the package's ESM build).
        const r = await b.resolve(args.path, { kind: 'import-statement', resolveDir: args.resolveDir });
        if (r.errors.length || !isCommonJs(r.path)) return undefined;
        return exportNames(args.path) ? { path: args.path, namespace: 'rp-interop' } : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'rp-interop' }, (args) => {
        const spec = JSON.stringify(args.path);
        const lines = [`import * as m from ${spec};`, 'const c = m.default ?? m;', 'export default c;'];
        for (const k of exportNames(args.path)) lines.push(`export const ${k} = c[${JSON.stringify(k)}];`);
        return { contents: lines.join('\n'), resolveDir: resolve(root), loader: 'js' };
      });
    },
  };
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
          keepNames: true, // node-fetch (grammY) checks AbortSignal by constructor name
          legalComments: 'none',
          sourcemap: false,
          // CommonJS dependencies call require(); ESM output needs a real one.
          plugins: [cjsDynamicImportInterop(root)],
          banner: { js: `${NODE_GUARD}\nimport { createRequire as __rpCreateRequire } from 'node:module'; const require = __rpCreateRequire(import.meta.url);` },
        }
      : { packages: 'external', sourcemap: 'linked', banner: { js: NODE_GUARD } }),
  });
  // The launcher's slot check (bin/rusty-pinch), bundled on its own (no shared chunks): it runs on
  // every start and must come from the installed build, never from the slot it verifies. The
  // first step stays tiny (no node:crypto) and imports the check only when a marker exists.
  // The check loads the serve-only probation step (lock, audit, circuit) on its own, only for serve.
  for (const [name, entry] of [['launcher', 'src/evolution/launch.ts'], ['launch-verify', 'src/evolution/launch-verify.ts'], ['launch-probation', 'src/evolution/launch-probation.ts']]) {
    await build({
      entryPoints: { [name]: join(root, entry) },
      outdir: tmp,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      external: ['./launch-verify.js', './launch-probation.js'],
      define: { __RUSTY_PINCH_VERSION__: JSON.stringify(version) },
      logLevel: 'warning',
      // Minified in both flavours: less to parse on every start, and the bench then times what ships.
      minify: true,
      legalComments: 'none',
    });
  }
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
