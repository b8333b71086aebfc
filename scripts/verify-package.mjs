// `npm run verify-package [-- <tarball>] [--public-key <key|file>]`: checks a release tarball
// the way an operator would use it. The checksum (its .sha256 and SHA256SUMS) and, when
// release/SHA256SUMS.sig exists, the Ed25519 signature are verified; the tarball is unpacked
// into a temp dir outside the checkout (so nothing resolves from our node_modules), and
// `--version`, `doctor`, a `local` turn, a skill run and a short `serve` (ready, /metrics,
// SIGTERM) are run from there with a clean environment. Exit 0 = usable; 1 = not (one `Error: …` line); 2 = usage.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { tmpdir } from 'node:os';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import * as tar from 'tar';
import { packageVersion } from './build.mjs';
import { RELEASE_DIR, artifactName, flag, loadPublicKey, parseSums, sha256File, signingKeyFrom, topDirName, verifySums } from './release-lib.mjs';

const argv = process.argv.slice(2);
const positional = argv.filter((a, i) => !a.startsWith('--') && !(i > 0 && argv[i - 1] === '--public-key'));
for (const a of argv) {
  if (a.startsWith('--') && !(a === '--public-key' || a.startsWith('--public-key=') || a === '--keep')) {
    console.error(`Error: unknown option ${a} (known: --public-key, --keep)`);
    process.exit(2);
  }
}

class VerifyError extends Error {}
const fail = (msg) => {
  throw new VerifyError(msg);
};

function checkSums(tarball) {
  const dir = dirname(tarball);
  const name = basename(tarball);
  const hex = sha256File(tarball);
  const side = `${tarball}.sha256`;
  if (!existsSync(side)) fail(`${side} is missing`);
  const own = parseSums(readFileSync(side, 'utf8'));
  if (own.get(name) !== hex) fail(`${name} does not match ${basename(side)} (got ${hex})`);
  const sumsPath = join(dir, 'SHA256SUMS');
  if (!existsSync(sumsPath)) fail(`${sumsPath} is missing`);
  const sumsBytes = readFileSync(sumsPath);
  if (parseSums(sumsBytes.toString('utf8')).get(name) !== hex) fail(`${name} does not match SHA256SUMS`);
  let signature = 'absent';
  const sigPath = join(dir, 'SHA256SUMS.sig');
  if (existsSync(sigPath)) {
    const keyArg =
      flag(argv, 'public-key') ?? process.env.RUSTY_PINCH_EVOLUTION_TRUSTED_SHA256SUMS_ED25519_PUBLIC_KEY ?? undefined;
    const key = keyArg ? loadPublicKey(keyArg) : signingKeyFrom([]);
    if (!key) fail('SHA256SUMS.sig is present but no public key was given (--public-key or RUSTY_PINCH_EVOLUTION_TRUSTED_SHA256SUMS_ED25519_PUBLIC_KEY)');
    if (!verifySums(sumsBytes, readFileSync(sigPath), key)) fail('SHA256SUMS signature verification failed');
    signature = 'verified';
  }
  return { sha256: hex, signature };
}

async function unpack(tarball, into, version) {
  const top = topDirName(version);
  const bad = [];
  await tar.x({
    file: tarball,
    cwd: into,
    strict: true,
    filter: (path, entry) => {
      const p = normalize(path);
      const ok = !isAbsolute(p) && !p.split('/').includes('..') && (p === `${top}/` || p === top || p.startsWith(`${top}/`)) && ['File', 'Directory'].includes(entry.type);
      if (!ok) bad.push(path);
      return ok;
    },
  });
  if (bad.length) fail(`unexpected entries in the tarball: ${bad.slice(0, 3).join(', ')}`);
  const entries = readdirSync(into);
  if (entries.length !== 1 || entries[0] !== top) fail(`the tarball must hold one top directory ${top}/ (found ${entries.join(', ')})`);
  return join(into, top);
}

function cleanEnv(home) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('RUSTY_PINCH_') || k.startsWith('OTEL_') || k.endsWith('_API_KEY') || k.startsWith('NODE_') || k.startsWith('npm_')) continue;
    env[k] = v;
  }
  return { ...env, HOME: home, RUSTY_PINCH_PROVIDER: 'local', RUSTY_PINCH_DATA_DIR: join(home, 'data'), RUSTY_PINCH_WORKSPACE: join(home, 'workspace'), RUSTY_PINCH_OPS_ADDR: 'off' };
}

function run(tree, env, cwd, args) {
  const t = Date.now();
  const r = spawnSync(process.execPath, [join(tree, 'bin', 'rusty-pinch'), ...args], { env, cwd, encoding: 'utf8', timeout: 60_000 });
  const ms = Date.now() - t;
  if (r.status !== 0) fail(`'rusty-pinch ${args.join(' ')}' from the package exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return { stdout: r.stdout, ms };
}

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** `serve` from the tree: waits for its serve_start event, scrapes /metrics, stops it with SIGTERM. */
async function serveCheck(tree, env, cwd) {
  const port = await freePort();
  const t = Date.now();
  const child = spawn(process.execPath, [join(tree, 'bin', 'rusty-pinch'), 'serve'], { env: { ...env, RUSTY_PINCH_OPS_ADDR: `127.0.0.1:${port}` }, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    await new Promise((resolve, reject) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        if (stderr.includes('"event":"serve_start"')) resolve();
      });
      exited.then(() => reject(new VerifyError(`serve from the package exited early: ${stderr.trim().split('\n').slice(-2).join(' | ')}`)));
    });
    const startMs = Date.now() - t;
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
    if (!metrics.includes('rusty_pinch_')) fail('serve from the package answered /metrics without rusty_pinch_ metrics');
    child.kill('SIGTERM');
    const end = await exited;
    if (end.code !== 0) fail(`serve from the package did not stop cleanly on SIGTERM (${end.code ?? end.signal})`);
    return { ms: startMs };
  } finally {
    clearTimeout(kill);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

async function main() {
  const started = Date.now();
  const version = packageVersion('.');
  const tarball = positional[0] ?? join(RELEASE_DIR, artifactName(version));
  if (!existsSync(tarball)) fail(`${tarball} does not exist (run npm run package first)`);
  const sums = checkSums(tarball);
  const tmp = mkdtempSync(join(tmpdir(), 'rusty-pinch-verify-'));
  try {
    const fileVersion = /^rusty-pinch-(.+)-[a-z0-9]+-[a-z0-9]+\.tar\.gz$/.exec(basename(tarball))?.[1] ?? version;
    const tree = await unpack(tarball, tmp, fileVersion);
    const treeVersion = JSON.parse(readFileSync(join(tree, 'package.json'), 'utf8')).version;
    if (treeVersion !== fileVersion) fail(`package.json in the tree says ${treeVersion}, the file name ${fileVersion}`);
    const home = join(tmp, 'home');
    mkdirSync(home);
    const env = cleanEnv(home);
    const v = run(tree, env, home, ['--version']);
    if (v.stdout.trim() !== fileVersion) fail(`--version printed '${v.stdout.trim()}', expected ${fileVersion}`);
    const d = run(tree, env, home, ['doctor', '--json']);
    const doctor = JSON.parse(d.stdout);
    if (doctor.version !== fileVersion || doctor.status === 'error') fail(`doctor: status ${doctor.status}, version ${doctor.version}`);
    const turn = run(tree, env, home, ['run', '--session', 'verify', '--message', 'package check']);
    if (!turn.stdout.includes("Received 'package check'")) fail(`the local turn answered '${turn.stdout.trim().slice(0, 80)}'`);
    // A skill run loads the QuickJS WebAssembly module from the tree's own node_modules.
    mkdirSync(join(home, 'workspace', 'skills'), { recursive: true });
    writeFileSync(join(home, 'workspace', 'skills', 'verify_echo.js'), 'function main(args) { return "echo:" + args; }\n');
    const skill = run(tree, env, home, ['skills', 'run', '--session', 'verify', '--name', 'verify_echo', '--args', 'ok']);
    if (JSON.parse(skill.stdout).output !== 'echo:ok') fail(`the skill run printed ${skill.stdout.trim().slice(0, 80)}`);
    // Starter skills are found beside the package (its assets/), whatever the working directory.
    if (!existsSync(join(home, 'workspace', 'skills', 'weather.js'))) fail('the starter skills were not copied from the package into the workspace');
    const serve = await serveCheck(tree, env, home);
    console.log(
      JSON.stringify(
        {
          status: 'ok',
          artifact: tarball,
          version: fileVersion,
          ...sums,
          version_ms: v.ms,
          doctor_ms: d.ms,
          turn_ms: turn.ms,
          skill_ms: skill.ms,
          serve_ready_ms: serve.ms,
          elapsed_ms: Date.now() - started,
          ...(argv.includes('--keep') ? { unpacked: tree } : {}),
        },
        null,
        2,
      ),
    );
  } finally {
    if (!argv.includes('--keep')) rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`Error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
