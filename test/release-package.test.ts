// The release package: packed once into a temp folder with a signing key, then verified the
// way an operator would (checksums, signature, unpacked tree runs --version, doctor, a turn and
// a skill with no npm install). Tampering and a wrong key are refused.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT, cleanEnv, tempDir, type CliResult } from './helpers.js';
import { startFakeTelegram } from './fakes/telegram-api.js';
import { FakeWhatsAppBridge } from './fakes/whatsapp-bridge.js';

const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const artifact = `rusty-pinch-${version}-${process.platform}-${process.arch}.tar.gz`;
/** The tree verify-package unpacked (kept for the channel round trips below). */
let unpacked: string | undefined;
after(() => {
  if (unpacked) rmSync(dirname(unpacked), { recursive: true, force: true });
});

function node(script: string, args: string[], env: Record<string, string> = {}) {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('RUSTY_PINCH_')) base[k] = v;
  return spawnSync(process.execPath, [join(ROOT, 'scripts', script), ...args], { cwd: ROOT, env: { ...base, ...env }, encoding: 'utf8', timeout: 120_000 });
}

test('npm run package writes the agreed layout; verify-package accepts it and refuses tampering', () => {
  const t = tempDir();
  try {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const keyFile = join(t.dir, 'release-signing.pem');
    writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const rawPublic = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
    const out = join(t.dir, 'release');

    const p = node('package.mjs', ['--out', out, '--signing-key', keyFile]);
    assert.equal(p.status, 0, p.stderr);
    const report = JSON.parse(p.stdout) as { public_key: string; compressed_bytes: number; unpacked_bytes: number };
    assert.equal(report.public_key, rawPublic);
    assert.deepEqual(readdirSync(out).sort(), ['SHA256SUMS', 'SHA256SUMS.sig', artifact, `${artifact}.sha256`].sort());
    const sums = readFileSync(join(out, 'SHA256SUMS'), 'utf8');
    assert.match(sums, new RegExp(`^[0-9a-f]{64}  ${artifact.replace(/\./g, '\\.')}\\n$`));
    assert.equal(readFileSync(join(out, `${artifact}.sha256`), 'utf8'), sums);
    assert.equal(Buffer.from(readFileSync(join(out, 'SHA256SUMS.sig'), 'utf8').trim(), 'base64').length, 64);
    // Runtime files only: far below a production node_modules (~19 MB).
    assert.ok(report.unpacked_bytes < 5_000_000, `unpacked ${report.unpacked_bytes} bytes`);

    const tarList = spawnSync('tar', ['tzf', join(out, artifact)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    const top = `rusty-pinch-${version}/`;
    assert.ok(tarList.every((e) => e.startsWith(top)), 'one top directory');
    for (const f of ['bin/rusty-pinch', 'dist/cli.js', 'package.json', 'README.md', '.env.example', 'assets/skills/weather.js', 'docs/release.md']) {
      assert.ok(tarList.includes(top + f), `${f} is in the package`);
    }
    assert.ok(!tarList.some((e) => /\/(src|test|bench)\/|\.map$|\.ts$/.test(e)), 'no sources, tests or maps');

    const v = node('verify-package.mjs', [join(out, artifact), '--public-key', rawPublic, '--keep']);
    assert.equal(v.status, 0, v.stderr);
    const verified = JSON.parse(v.stdout) as { status: string; signature: string; version: string; unpacked: string };
    unpacked = verified.unpacked;
    assert.equal(verified.status, 'ok');
    assert.equal(verified.signature, 'verified');
    assert.equal(verified.version, version);

    // A signature with no key to check it, or the wrong key, is refused.
    assert.equal(node('verify-package.mjs', [join(out, artifact)]).status, 1);
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!;
    const wrong = node('verify-package.mjs', [join(out, artifact), '--public-key', Buffer.from(other, 'base64url').toString('hex')]);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /^Error: SHA256SUMS signature verification failed\n$/);

    // A changed tarball fails its checksum before anything is unpacked.
    const bad = join(t.dir, 'bad');
    mkdirSync(bad);
    for (const f of readdirSync(out)) copyFileSync(join(out, f), join(bad, f));
    appendFileSync(join(bad, artifact), 'x');
    const tampered = node('verify-package.mjs', [join(bad, artifact), '--public-key', rawPublic]);
    assert.equal(tampered.status, 1);
    assert.match(tampered.stderr, /does not match/);

    // Garbage in: unknown flags are usage errors, a bad key file a clear failure.
    assert.equal(node('package.mjs', ['--nope']).status, 2);
    assert.equal(node('verify-package.mjs', ['--nope']).status, 2);
    writeFileSync(join(t.dir, 'garbage.pem'), 'not a key');
    const g = node('package.mjs', ['--out', join(t.dir, 'g'), '--signing-key', join(t.dir, 'garbage.pem')]);
    assert.equal(g.status, 1);
    assert.match(g.stderr, /^Error: cannot read the signing key/);
    assert.equal(node('verify-package.mjs', [join(out, artifact), '--public-key', 'zz!']).status, 1);
  } finally {
    t.cleanup();
  }
});

/** Runs the unpacked package's launcher in the background. */
function startPackaged(args: string[], env: Record<string, string>): Promise<CliResult> {
  const child = spawn(process.execPath, [join(unpacked!, 'bin', 'rusty-pinch'), ...args], { env, cwd: dirname(unpacked!), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => child.on('close', (code, signal) => (clearTimeout(timer), resolve({ code, signal, stdout, stderr }))));
}

test('the packaged tree answers on Telegram and WhatsApp (bundled grammY and ws) with no npm install', async () => {
  assert.ok(unpacked, 'the package test ran first');
  const t = tempDir();
  const tg = await startFakeTelegram();
  const bridge = await FakeWhatsAppBridge.start({ dialect: 'original' });
  try {
    const tgRun = startPackaged(['channels', 'telegram', '--max-messages', '1'], cleanEnv(t.dir, {
      RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED: 'true',
      RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN: tg.token,
      RUSTY_PINCH_CHANNELS_TELEGRAM_API_ROOT: tg.url,
      RUSTY_PINCH_CHANNELS_TELEGRAM_ALLOW_FROM: '42',
      RUSTY_PINCH_CHANNELS_TELEGRAM_POLL_TIMEOUT_SECS: '1',
      RUSTY_PINCH_SESSION_FSYNC: 'false',
    }));
    tg.message({ chatId: 42, text: 'hello package' });
    const tr = await tgRun;
    assert.equal(tr.code, 0, tr.stderr);
    assert.match(tg.sent.map((m) => m.text).join('\n'), /Received 'hello package'/);

    const waRun = startPackaged(['channels', 'whatsapp', '--max-messages', '1'], cleanEnv(t.dir, {
      RUSTY_PINCH_CHANNELS_WHATSAPP_ENABLED: 'true',
      RUSTY_PINCH_CHANNELS_WHATSAPP_BRIDGE_URL: bridge.url,
      RUSTY_PINCH_CHANNELS_WHATSAPP_ALLOW_FROM: '15550001',
      RUSTY_PINCH_SESSION_FSYNC: 'false',
    }));
    await bridge.waitForClient(15_000);
    bridge.inbound({ from: '15550001', text: 'hi package', id: 'p1' });
    const wr = await waRun;
    assert.equal(wr.code, 0, wr.stderr);
    assert.match(String(bridge.outbound[0]?.content), /Received 'hi package'/);
  } finally {
    await tg.close();
    await bridge.close();
    t.cleanup();
  }
});

test('the package ships without the optional OpenTelemetry SDK: an endpoint degrades to a warning, turns still work', async () => {
  assert.ok(unpacked, 'the package test ran first');
  const t = tempDir();
  try {
    const env = cleanEnv(t.dir, { RUSTY_PINCH_OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    const r = await startPackaged(['run', '--session', 'otlp', '--message', 'still here'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Received 'still here'/);
    assert.match(r.stderr, /"event":"observability_init","status":"degraded","message":"OTLP export is configured but the OpenTelemetry packages cannot be loaded/);
    const d = await startPackaged(['doctor', '--json'], env);
    const report = JSON.parse(d.stdout) as { status: string; checks: Array<{ message: string; hint?: string }> };
    assert.equal(report.status, 'warning');
    assert.ok(report.checks.some((c) => /OpenTelemetry packages are not installed/.test(c.message) && /npm install --omit=dev/.test(c.hint ?? '')));
  } finally {
    t.cleanup();
  }
});
