// `npm run package`: a standalone release tree, packed for this platform.
//
//   release/rusty-pinch-<version>-<os>-<arch>.tar.gz       one top dir rusty-pinch-<version>/
//   release/rusty-pinch-<version>-<os>-<arch>.tar.gz.sha256
//   release/SHA256SUMS                                      every tarball in release/
//   release/SHA256SUMS.sig                                  with a signing key: Ed25519, base64
//
// The tree runs with no npm install: dist/ has the npm dependencies compiled in, and
// node_modules/ holds only the QuickJS WebAssembly variant (it loads its .wasm from beside its
// own module). Signing key: --signing-key <pem file>, or RUSTY_PINCH_RELEASE_SIGNING_KEY_FILE,
// or RUSTY_PINCH_RELEASE_SIGNING_KEY (the PEM text, for CI secrets). See docs/release.md.
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { execFileSync } from 'node:child_process';
import * as tar from 'tar';
import { BUNDLE_EXTERNALS, OPTIONAL_EXTERNALS, buildDist, packageVersion } from './build.mjs';
import { RELEASE_DIR, artifactName, flag, rawPublicKey, sha256File, signingKeyFrom, sumLine, topDirName, writeSums } from './release-lib.mjs';

const argv = process.argv.slice(2);
const known = ['--signing-key', '--out'];
for (const a of argv) {
  if (a.startsWith('--') && !known.some((k) => a === k || a.startsWith(`${k}=`))) {
    console.error(`Error: unknown option ${a} (known: ${known.join(', ')})`);
    process.exit(2);
  }
}

/** Files copied from the checkout into the tree, as they are. */
const TREE_FILES = ['bin', 'assets', 'docs', 'deploy', 'README.md', 'SECURITY.md', '.env.example'];
/** Never shipped from a runtime dependency's folder. */
const SKIP_IN_MODULES = /(\.map|\.d\.[cm]?ts|\.md|\.browser\.[cm]?js|\.cloudflare\.[cm]?js|\.tsbuildinfo)$/;

function runtimeModules(root) {
  // The externals that must be present at run time (optional ones are loaded only when configured).
  const wanted = BUNDLE_EXTERNALS.filter((n) => !OPTIONAL_EXTERNALS.includes(n));
  const out = new Set();
  const visit = (name) => {
    if (out.has(name)) return;
    const dir = join(root, 'node_modules', name);
    if (!existsSync(join(dir, 'package.json'))) throw new Error(`runtime dependency ${name} is not installed (run npm ci)`);
    out.add(name);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep);
  };
  wanted.forEach(visit);
  return [...out].sort();
}

function manifest(root, version) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  // What the tree is and runs on; other dependencies are compiled into dist/. The optional OTLP
  // exporter is listed so `npm install --omit=dev` inside the tree can add it.
  return {
    name: pkg.name,
    version,
    description: pkg.description,
    type: 'module',
    license: pkg.license,
    private: true,
    engines: pkg.engines,
    bin: pkg.bin,
    // The modules shipped in node_modules/, so an `npm install` here keeps them.
    dependencies: Object.fromEntries(BUNDLE_EXTERNALS.filter((n) => !OPTIONAL_EXTERNALS.includes(n)).map((n) => [n, pkg.dependencies[n]])),
    ...(pkg.optionalDependencies ? { optionalDependencies: pkg.optionalDependencies } : {}),
  };
}

function listTree(dir, base = dir, out = []) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    out.push(relative(base, p));
    if (statSync(p).isDirectory()) listTree(p, base, out);
  }
  return out;
}

function sourceDateEpoch() {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  try {
    return Number(execFileSync('git', ['log', '-1', '--format=%ct'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    return Math.floor(Date.now() / 1000);
  }
}

async function main() {
  const root = process.cwd();
  const outDir = flag(argv, 'out') ?? RELEASE_DIR;
  const signingKey = signingKeyFrom(argv); // a bad key fails before anything is built
  const version = packageVersion(root);
  const started = Date.now();

  const stage = join(outDir, `.stage-${process.pid}`);
  const top = join(stage, topDirName(version));
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(top, { recursive: true });
  try {
    await buildDist({ root, outdir: join(top, 'dist'), bundleDeps: true });
    for (const f of TREE_FILES) if (existsSync(join(root, f))) cpSync(join(root, f), join(top, f), { recursive: true });
    writeFileSync(join(top, 'package.json'), JSON.stringify(manifest(root, version), null, 2) + '\n');
    for (const name of runtimeModules(root)) {
      cpSync(join(root, 'node_modules', name), join(top, 'node_modules', name), { recursive: true, filter: (src) => !SKIP_IN_MODULES.test(src) });
    }

    const file = artifactName(version);
    const out = join(outDir, file);
    mkdirSync(dirname(out), { recursive: true });
    const mtime = new Date(sourceDateEpoch() * 1000);
    await tar.c({ gzip: { level: 9 }, file: out, cwd: stage, portable: true, noDirRecurse: true, mtime }, [topDirName(version), ...listTree(top).map((p) => join(topDirName(version), p))]);

    const hex = sha256File(out);
    writeFileSync(`${out}.sha256`, sumLine(hex, file));
    // SHA256SUMS covers every tarball in the folder (other platforms' too, as CI gathers them).
    writeSums(outDir, signingKey, new Map([[file, hex]]));

    const unpacked = listTree(top).reduce((n, p) => n + (statSync(join(top, p)).isFile() ? statSync(join(top, p)).size : 0), 0);
    console.log(
      JSON.stringify(
        {
          artifact: out,
          version,
          sha256: hex,
          compressed_bytes: statSync(out).size,
          unpacked_bytes: unpacked,
          signed: Boolean(signingKey),
          ...(signingKey ? { public_key: rawPublicKey(signingKey) } : {}),
          elapsed_ms: Date.now() - started,
        },
        null,
        2,
      ),
    );
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`Error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
