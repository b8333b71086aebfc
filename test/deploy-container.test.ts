// What of the container can run without a container engine: the image's install steps into a
// temp prefix (from a real package), the entrypoint's Codex login bootstrap against the fake
// `codex`, the healthcheck against loopback servers, shellcheck on the scripts, and the
// Dockerfile / compose / systemd files checked for what the docs promise.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FAKE_CODEX, ROOT, cleanEnv, freePort, tempDir } from './helpers.js';

const CONTAINER = join(ROOT, 'deploy', 'container');
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
let t: { dir: string; cleanup: () => void };
let prefix: string;
let fakeBin: string;

before(() => {
  t = tempDir();
  const out = join(t.dir, 'release');
  const p = spawnSync(process.execPath, [join(ROOT, 'scripts', 'package.mjs'), '--out', out], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(p.status, 0, p.stderr);
  const tarball = join(out, readdirSync(out).find((f) => f.endsWith('.tar.gz'))!);
  prefix = join(t.dir, 'root');
  const i = spawnSync('sh', [join(CONTAINER, 'install-runtime.sh'), prefix, tarball], { encoding: 'utf8' });
  assert.equal(i.status, 0, i.stderr);
  fakeBin = join(t.dir, 'fakebin');
  mkdirSync(fakeBin);
  symlinkSync(FAKE_CODEX, join(fakeBin, 'codex'));
});
after(() => t.cleanup());

/** Runs the installed entrypoint as the image would (HOME = the state dir). */
function entrypoint(args: string[], extra: Record<string, string | undefined>, withCodex = true) {
  const home = join(prefix, 'var', 'lib', 'rusty-pinch');
  const env = cleanEnv(t.dir, {
    HOME: home,
    PATH: [join(prefix, 'usr', 'local', 'bin'), ...(withCodex ? [fakeBin] : []), process.env.PATH].join(':'),
    RUSTY_PINCH_DATA_DIR: join(home, 'data'),
    RUSTY_PINCH_WORKSPACE: join(home, 'workspace'),
    RUSTY_PINCH_CODEX_HOME_ROOT: join(home, 'codex-home'),
    FAKE_CODEX_LOG: join(t.dir, 'codex.log'),
    ...extra,
  });
  writeFileSync(join(t.dir, 'codex.log'), '');
  const r = spawnSync(join(prefix, 'usr', 'local', 'bin', 'rusty-pinch-entrypoint'), args, { env, cwd: home, encoding: 'utf8', timeout: 30_000 });
  const calls = readFileSync(join(t.dir, 'codex.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { argv: string[]; stdin?: string });
  return { ...r, calls, home, codexHome: join(home, 'codex-home', 'default') };
}

test('the install steps lay out the tree, the commands and the state folders under a prefix', () => {
  for (const f of ['opt/rusty-pinch/dist/cli.js', 'opt/rusty-pinch/bin/rusty-pinch', 'usr/local/bin/rusty-pinch', 'usr/local/bin/rusty-pinch-entrypoint', 'usr/local/bin/rusty-pinch-healthcheck']) {
    assert.ok(existsSync(join(prefix, f)), f);
  }
  for (const d of ['data', 'workspace', 'codex-home']) assert.ok(statSync(join(prefix, 'var/lib/rusty-pinch', d)).isDirectory());
  assert.equal(statSync(join(prefix, 'var/lib/rusty-pinch/codex-home')).mode & 0o777, 0o700);
  const v = spawnSync(join(prefix, 'usr/local/bin/rusty-pinch'), ['--version'], { encoding: 'utf8', cwd: t.dir });
  assert.equal(v.stdout.trim(), version);
  // Garbage in: no tarball, not a release.
  assert.equal(spawnSync('sh', [join(CONTAINER, 'install-runtime.sh'), join(t.dir, 'x'), join(t.dir, 'missing.tar.gz')]).status, 1);
  writeFileSync(join(t.dir, 'junk.tar.gz'), 'junk');
  assert.notEqual(spawnSync('sh', [join(CONTAINER, 'install-runtime.sh'), join(t.dir, 'x'), join(t.dir, 'junk.tar.gz')], { stdio: 'ignore' }).status, 0);
});

test('entrypoint: no Codex work unless the provider is codex; then it execs rusty-pinch with the arguments', () => {
  const r = entrypoint(['--version'], { RUSTY_PINCH_PROVIDER: 'local' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), version);
  assert.deepEqual(r.calls, []);
  const missing = entrypoint(['--version'], { RUSTY_PINCH_PROVIDER: 'codex' }, false);
  assert.equal(missing.status, 0);
  assert.match(missing.stderr, /\[rusty-pinch-entrypoint\] codex CLI not on PATH/);
  // An unusable Codex home (a bind mount owned by someone else; here a file) is reported, and the start goes on.
  const blocked = join(t.dir, 'not-a-dir');
  writeFileSync(blocked, '');
  const r2 = entrypoint(['--version'], { RUSTY_PINCH_PROVIDER: 'codex', RUSTY_PINCH_CODEX_HOME: join(blocked, 'default') });
  assert.equal(r2.status, 0, r2.stderr);
  assert.equal(r2.stdout.trim(), version);
  assert.match(r2.stderr, /cannot use .*not-a-dir\/default as user \d+ .*skipping login bootstrap/);
  assert.deepEqual(r2.calls, []);
});

test('entrypoint: a logged-in Codex home is used as is, and ~/.codex points at it', () => {
  const r = entrypoint(['--version'], { RUSTY_PINCH_PROVIDER: 'codex' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), version);
  assert.match(r.stderr, /codex auth ready/);
  assert.deepEqual(r.calls.map((c) => c.argv.join(' ')), ['login status']);
  assert.ok(lstatSync(join(r.home, '.codex')).isSymbolicLink());
  assert.equal(readlinkSync(join(r.home, '.codex')), r.codexHome);
  assert.equal(statSync(r.codexHome).mode & 0o777, 0o700);
});

test('entrypoint: chatgpt mode restores auth.json from base64 (0600), and never blocks when device auth is off', () => {
  const auth = '{"tokens":{"access_token":"not-a-real-token"}}';
  const r = entrypoint(['--version'], {
    RUSTY_PINCH_PROVIDER: 'codex',
    FAKE_CODEX_MODE: 'not-logged-in',
    RUSTY_PINCH_CODEX_CHATGPT_AUTH_JSON_B64: Buffer.from(auth).toString('base64'),
    RUSTY_PINCH_CODEX_CHATGPT_DEVICE_AUTH: 'false',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(r.codexHome, 'auth.json'), 'utf8'), auth);
  assert.equal(statSync(join(r.codexHome, 'auth.json')).mode & 0o777, 0o600);
  assert.match(r.stderr, /restored auth\.json from RUSTY_PINCH_CODEX_CHATGPT_AUTH_JSON_B64/);
  assert.match(r.stderr, /device auth disabled/);
  assert.match(r.stderr, /still not logged in/);
  assert.ok(!r.stderr.includes('not-a-real-token'));
  assert.equal(r.stdout.trim(), version);
  // Garbage base64 is skipped with a message, and the start goes on.
  const bad = entrypoint(['--version'], { RUSTY_PINCH_PROVIDER: 'codex', FAKE_CODEX_MODE: 'not-logged-in', RUSTY_PINCH_CODEX_CHATGPT_AUTH_JSON_B64: '%%%not base64%%%', RUSTY_PINCH_CODEX_CHATGPT_DEVICE_AUTH: 'no' });
  assert.equal(bad.status, 0);
  assert.match(bad.stderr, /not valid base64; skipped/);
});

test('entrypoint: device auth runs under the timeout; api-key mode pipes the key on stdin, never argv', () => {
  const d = entrypoint(['--version'], { RUSTY_PINCH_PROVIDER: 'codex', FAKE_CODEX_MODE: 'not-logged-in', RUSTY_PINCH_CODEX_LOGIN_TIMEOUT_SECS: 'soon' });
  assert.equal(d.status, 0);
  assert.match(d.stderr, /RUSTY_PINCH_CODEX_LOGIN_TIMEOUT_SECS='soon' is not a number; using 300/);
  assert.ok(d.calls.some((c) => c.argv.join(' ') === 'login --device-auth'));

  const key = 'sk-entrypoint-test-0123456789';
  const r = entrypoint(['--version'], { RUSTY_PINCH_PROVIDER: 'codex', FAKE_CODEX_MODE: 'not-logged-in', RUSTY_PINCH_CODEX_AUTO_LOGIN_MODE: 'API-KEY', MY_KEY: key, RUSTY_PINCH_CODEX_AUTO_LOGIN_API_KEY_ENV: 'MY_KEY' });
  assert.equal(r.status, 0, r.stderr);
  const login = r.calls.find((c) => c.argv[0] === 'login' && c.argv[1] === '--with-api-key');
  assert.ok(login, JSON.stringify(r.calls));
  assert.equal(login.stdin?.trim(), key);
  assert.ok(r.calls.every((c) => !c.argv.join(' ').includes(key)));
  assert.ok(!r.stderr.includes(key) && !r.stdout.includes(key));

  const odd = entrypoint(['--version'], { RUSTY_PINCH_PROVIDER: 'codex', FAKE_CODEX_MODE: 'not-logged-in', RUSTY_PINCH_CODEX_AUTO_LOGIN_MODE: 'magic' });
  assert.match(odd.stderr, /unknown RUSTY_PINCH_CODEX_AUTO_LOGIN_MODE='magic'/);
  const badName = entrypoint(['--version'], { RUSTY_PINCH_PROVIDER: 'codex', FAKE_CODEX_MODE: 'not-logged-in', RUSTY_PINCH_CODEX_AUTO_LOGIN_MODE: 'api-key', RUSTY_PINCH_CODEX_AUTO_LOGIN_API_KEY_ENV: 'X; rm -rf /' });
  assert.match(badName.stderr, /is not a variable name; skipped/);
  const off = entrypoint(['--version'], { RUSTY_PINCH_PROVIDER: 'codex', FAKE_CODEX_MODE: 'not-logged-in', RUSTY_PINCH_CODEX_AUTO_LOGIN: 'false' });
  assert.match(off.stderr, /RUSTY_PINCH_CODEX_AUTO_LOGIN=false; continuing/);
  assert.equal(off.stdout.trim(), version);
});

async function serveStatus(status: number): Promise<Server> {
  const s = createServer((req, res) => {
    res.statusCode = req.url === '/healthz' ? status : 404;
    res.end();
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return s;
}

test('healthcheck: /healthz of a serve worker decides; with nothing listening, doctor stands in', async () => {
  const bin = join(prefix, 'usr', 'local', 'bin');
  const run = (addr: string, extra: Record<string, string> = {}) =>
    new Promise<number | null>((resolve) => {
      const env = cleanEnv(t.dir, { PATH: `${bin}:${process.env.PATH}`, RUSTY_PINCH_OPS_ADDR: addr, ...extra });
      // Asynchronous: the loopback servers answer from this process's event loop.
      execFile(join(bin, 'rusty-pinch-healthcheck'), [], { env, timeout: 20_000 }, (err) => resolve(err ? ((err as { code?: number }).code ?? null) : 0));
    });
  const ok = await serveStatus(200);
  const bad = await serveStatus(503);
  try {
    assert.equal(await run(`127.0.0.1:${(ok.address() as AddressInfo).port}`), 0);
    assert.equal(await run(`127.0.0.1:${(bad.address() as AddressInfo).port}`), 1);
  } finally {
    ok.close();
    bad.close();
  }
  const port = await freePort();
  assert.equal(await run(`127.0.0.1:${port}`), 0); // channel worker, healthy config
  assert.equal(await run('off', { RUSTY_PINCH_PROVIDER: 'openai' }), 1); // doctor: no key
});

test('shell scripts are clean under shellcheck', (ctx) => {
  if (spawnSync('shellcheck', ['--version']).status !== 0) {
    // CI installs it (.ci/run), so there a missing shellcheck is a failure, never a silent skip.
    assert.ok(!process.env.CI, 'shellcheck must be installed in CI (.ci/run installs it)');
    ctx.skip('shellcheck is not installed (apt-get install shellcheck); CI runs it');
    return;
  }
  const r = spawnSync('shellcheck', ['-s', 'sh', ...['entrypoint.sh', 'install-runtime.sh', 'healthcheck.sh'].map((f) => join(CONTAINER, f))], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout);
});

test('Dockerfile: multi-stage, non-root, tini as PID 1, healthcheck, volumes, optional Codex CLI', () => {
  const df = readFileSync(join(CONTAINER, 'Dockerfile'), 'utf8');
  const lines = df.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const ins = (name: string) => lines.filter((l) => l.toUpperCase().startsWith(name + ' '));
  assert.equal(ins('FROM').length, 2);
  assert.match(ins('USER').at(-1)!, /^USER rusty-pinch$/);
  assert.match(ins('ENTRYPOINT')[0]!, /"\/usr\/bin\/tini", "--", "rusty-pinch-entrypoint"/);
  assert.match(ins('HEALTHCHECK')[0]!, /rusty-pinch-healthcheck/);
  const vol = ins('VOLUME')[0]!;
  for (const v of ['data', 'workspace', 'codex-home']) assert.ok(vol.includes(`/var/lib/rusty-pinch/${v}`), v);
  assert.ok(ins('ARG').some((l) => l === 'ARG RUSTY_PINCH_INSTALL_CODEX_CLI=false'));
  assert.ok(ins('RUN').some((l) => l.includes('install-runtime.sh')), 'the image runs the tested install script');
  // Every file the Dockerfile copies exists in the checkout.
  for (const c of ins('COPY').filter((l) => !l.includes('--from'))) {
    for (const src of c.split(/\s+/).slice(1, -1)) assert.ok(existsSync(join(ROOT, src)), `COPY ${src}`);
  }
});

test('compose files parse, and the Pi profile has the Telegram worker, WhatsApp behind a profile, and Watchtower', () => {
  type Compose = { services: Record<string, { command?: string[]; profiles?: string[]; volumes?: string[]; labels?: Record<string, string> }> };
  const example = parseYaml(readFileSync(join(CONTAINER, 'docker-compose.example.yml'), 'utf8'), { merge: true }) as Compose;
  const rpi = parseYaml(readFileSync(join(CONTAINER, 'docker-compose.rpi.yml'), 'utf8'), { merge: true }) as Compose;
  for (const c of [example, rpi]) {
    assert.deepEqual(c.services['rusty-pinch-telegram']!.command, ['serve']);
    assert.deepEqual(c.services['rusty-pinch-whatsapp']!.command, ['channels', 'whatsapp']);
    assert.deepEqual(c.services['rusty-pinch-whatsapp']!.profiles, ['whatsapp']);
    assert.equal(c.services['rusty-pinch-telegram']!.volumes!.length, 3);
  }
  assert.ok(rpi.services.watchtower);
  assert.equal(rpi.services['rusty-pinch-telegram']!.labels!['com.centurylinklabs.watchtower.enable'], 'true');
});

test('systemd units run commands that exist, as the rusty-pinch user, stopping with SIGTERM', () => {
  const dir = join(ROOT, 'deploy', 'systemd');
  const units = readdirSync(dir).filter((f) => f.endsWith('.service')).sort();
  assert.deepEqual(units, ['rusty-pinch-telegram.service', 'rusty-pinch-whatsapp.service', 'rusty-pinch.service']);
  const expected: Record<string, string> = { 'rusty-pinch.service': 'serve', 'rusty-pinch-telegram.service': 'channels telegram', 'rusty-pinch-whatsapp.service': 'channels whatsapp' };
  for (const u of units) {
    const text = readFileSync(join(dir, u), 'utf8');
    assert.match(text, /^User=rusty-pinch$/m);
    assert.match(text, /^KillSignal=SIGTERM$/m);
    const exec = /^ExecStart=\/usr\/bin\/node \/opt\/rusty-pinch\/bin\/rusty-pinch (.+)$/m.exec(text);
    assert.equal(exec?.[1], expected[u]);
    const help = spawnSync(process.execPath, [join(ROOT, 'bin', 'rusty-pinch'), ...exec![1]!.split(' '), '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, `${exec![1]} --help`);
  }
});
