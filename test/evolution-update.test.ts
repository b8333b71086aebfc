// Self-update through the real CLI (spawned processes, real files): stage and apply gates,
// tampering, signatures, downgrade, staleness, kill -9 at every checkpoint then resume, a hung
// health check, the failure circuit, audit tampering, lock contention, and the launcher.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { cleanEnv, CLI, processGone, ROOT, runCli, tempDir } from './helpers.js';
import { fakeRelease } from './evolution-release.js';

type Env = Record<string, string>;

function setup(extra: Record<string, string | undefined> = {}): { dir: string; env: Env; updates: string; cleanup: () => void } {
  const t = tempDir('rp-evo-');
  const env = cleanEnv(t.dir, { RUSTY_PINCH_TEST: '1', ...extra });
  return { dir: t.dir, env, updates: join(t.dir, 'workspace', 'updates'), cleanup: t.cleanup };
}

const INSTALLED = join(ROOT, 'dist', 'cli.js');

/**
 * Runs the installed build directly (after an activation the launcher would run the fake slot,
 * which only prints its version); RUSTY_PINCH_LAUNCHER makes apply's health check go through
 * the real launcher as it does in production. `launch` runs bin/rusty-pinch itself.
 */
function runInstalled(args: string[], env: Env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [INSTALLED, ...args], { env: { ...env, RUSTY_PINCH_LAUNCHER: CLI }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function launch(env: Env, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(args, { env, timeoutMs: 60_000 });
}

async function cli(env: Env, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; json: any }> {
  const r = await runInstalled(args, env);
  let json: any;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

const apply = (env: Env, ...more: string[]) => cli(env, 'evolution', 'apply-staged-update', '--confirm', '--healthcheck-timeout-secs', '20', ...more);
const stage = (env: Env, artifact: string, ...more: string[]) => cli(env, 'evolution', 'stage-update', '--artifact', artifact, ...more);

const spawned = new Set<ReturnType<typeof spawn>>();
after(() => {
  for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Spawns the CLI and resolves when `needle` shows on stderr. */
function spawnUntil(env: Env, args: string[], needle: string): { child: ReturnType<typeof spawn>; seen: Promise<void> } {
  const child = spawn(process.execPath, [INSTALLED, ...args], { env: { ...env, RUSTY_PINCH_LAUNCHER: CLI }, stdio: ['ignore', 'pipe', 'pipe'] });
  spawned.add(child);
  let err = '';
  const seen = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes(needle)) resolve();
    });
    child.on('exit', () => reject(new Error(`exited before '${needle}': ${err}`)));
  });
  seen.catch(() => undefined);
  return { child, seen };
}

test('stage + apply switch what runs; the launcher says so once; the audit chain verifies', async () => {
  const s = setup();
  try {
    const r = await fakeRelease(s.dir, '0.2.0');
    const st = await stage(s.env, r.tarball, '--artifact-sha256', r.sha256);
    assert.equal(st.code, 0, st.stderr);
    assert.equal(st.json.status, 'staged');
    assert.equal(st.json.plan.passive_slot, 'green');
    const before = await launch(s.env, '--version');
    assert.equal(before.stdout.trim(), '0.1.0');
    assert.equal(before.stderr, '', 'no notice without an active slot');
    const ap = await apply(s.env);
    assert.equal(ap.code, 0, ap.stderr);
    assert.equal(ap.json.status, 'activated');
    assert.equal(ap.json.report.running, 'green');
    const after = await launch(s.env, '--version');
    assert.equal(after.stdout.trim(), '0.2.0');
    assert.deepEqual(after.stderr.trim().split('\n'), ['rusty-pinch: running update slot green (version 0.2.0)']);
    const again = await apply(s.env);
    assert.equal(again.json.status, 'activated', 'idempotent');
    const audit = await cli(s.env, 'evolution', 'audit-verify');
    assert.equal(audit.code, 0, audit.stderr);
    assert.equal(audit.json.report.entries, 4); // stage, applying, healthcheck_pending, activated
    const rec = await cli(s.env, 'evolution', 'recovery-status');
    assert.equal(rec.json.report.recommendation, 'staged update already activated; no recovery action needed');
  } finally {
    s.cleanup();
  }
});

test('tampering: artifact, staged slot, and an active slot (the launcher falls back)', async () => {
  const s = setup();
  try {
    const r = await fakeRelease(s.dir, '0.2.0');
    appendFileSync(r.tarball, 'x');
    const bad = await stage(s.env, r.tarball, '--artifact-sha256', r.sha256);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Error: artifact binary checksum mismatch \(expected [0-9a-f]{64}, got [0-9a-f]{64}\)/);
    assert.equal(existsSync(join(s.updates, 'blue-green-staged.json')), false, 'nothing staged');

    const good = await fakeRelease(s.dir, '0.2.0');
    assert.equal((await stage(s.env, good.tarball)).code, 0);
    appendFileSync(join(s.updates, 'green', 'dist', 'cli.js'), '\n// changed\n');
    const ap = await apply(s.env);
    assert.equal(ap.code, 1);
    assert.match(ap.stderr, /staged passive binary checksum mismatch/);
    assert.equal(JSON.parse(readFileSync(join(s.updates, 'blue-green-staged.json'), 'utf8')).status, 'integrity_failed');
    assert.equal(existsSync(join(s.updates, 'active-slot')), false, 'no marker written');

    assert.equal((await stage(s.env, good.tarball)).code, 0);
    assert.equal((await apply(s.env)).json.status, 'activated');
    writeFileSync(join(s.updates, 'green', 'dist', 'cli.js'), 'console.log("evil")\n');
    const v = await launch(s.env, '--version');
    assert.equal(v.stdout.trim(), '0.1.0', 'installed build runs');
    assert.match(v.stderr, /^rusty-pinch: active update slot green rejected \(slot entry 'dist\/cli.js' changed since activation\); running the installed build\n$/);
  } finally {
    s.cleanup();
  }
});

test('SHA256SUMS: wrong entry, wrong hash, pin, Ed25519 signature required / bad / good', async () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pubB64 = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
  const s = setup({ RUSTY_PINCH_EVOLUTION_TRUSTED_SHA256SUMS_ED25519_PUBLIC_KEY: pubB64, RUSTY_PINCH_EVOLUTION_REQUIRE_SHA256SUMS_SIGNATURE: 'true' });
  try {
    const r = await fakeRelease(s.dir, '0.2.0');
    const name = r.tarball.split('/').pop()!;
    const sums = join(s.dir, 'SHA256SUMS');
    writeFileSync(sums, `${r.sha256}  ${name}\n`);
    const sig = join(s.dir, 'SHA256SUMS.sig');
    writeFileSync(sig, sign(null, readFileSync(sums), privateKey).toString('base64') + '\n');

    const noSig = await stage(s.env, r.tarball, '--artifact-sha256-sums-file', sums);
    assert.match(noSig.stderr, /checksum manifest signature is required by policy/);
    const wrongEntry = await stage(s.env, r.tarball, '--artifact-sha256-sums-file', sums, '--artifact-sha256-sums-signature-file', sig, '--artifact-sha256-entry', 'other.tar.gz');
    assert.match(wrongEntry.stderr, /Error: artifact entry 'other.tar.gz' not found in checksum manifest/);
    const badSig = join(s.dir, 'bad.sig');
    writeFileSync(badSig, sign(null, Buffer.from('something else'), privateKey).toString('hex'));
    const bad = await stage(s.env, r.tarball, '--artifact-sha256-sums-file', sums, '--artifact-sha256-sums-signature-file', badSig);
    assert.match(bad.stderr, /Error: checksum manifest signature verification failed/);
    const pinned = await stage({ ...s.env, RUSTY_PINCH_EVOLUTION_TRUSTED_SHA256SUMS_SHA256: '0'.repeat(64) }, r.tarball, '--artifact-sha256-sums-file', sums, '--artifact-sha256-sums-signature-file', sig);
    assert.match(pinned.stderr, /checksum manifest SHA-256 mismatch/);

    const wrongHash = join(s.dir, 'SHA256SUMS.wrong');
    writeFileSync(wrongHash, `${'a'.repeat(64)}  ${name}\n`);
    writeFileSync(sig + '.wrong', sign(null, readFileSync(wrongHash), privateKey));
    const mismatch = await stage(s.env, r.tarball, '--artifact-sha256-sums-file', wrongHash, '--artifact-sha256-sums-signature-file', sig + '.wrong');
    assert.match(mismatch.stderr, /artifact binary checksum mismatch/);

    const ok = await stage(s.env, r.tarball, '--artifact-sha256-sums-file', sums, '--artifact-sha256-sums-signature-file', sig);
    assert.equal(ok.code, 0, ok.stderr);
    const m = JSON.parse(readFileSync(join(s.updates, 'blue-green-staged.json'), 'utf8'));
    assert.equal(m.checksum_manifest_signature_verified, true);
    assert.equal(m.artifact_checksum_verified, true);
    // Signed provenance is re-checked at apply: a changed SHA256SUMS is refused.
    appendFileSync(sums, '# tampered\n');
    const ap = await apply({ ...s.env, RUSTY_PINCH_EVOLUTION_REQUIRE_SIGNED_CHECKSUM_MANIFEST_PROVENANCE: 'true' });
    assert.match(ap.stderr, /recorded checksum manifest SHA-256 mismatch at apply time/);
  } finally {
    s.cleanup();
  }
});

test('downgrade and same version are refused; garbage flags and archives change nothing', async () => {
  const s = setup();
  try {
    for (const v of ['0.0.9', '0.1.0']) {
      const r = await fakeRelease(s.dir, v);
      const st = await stage(s.env, r.tarball);
      assert.equal(st.code, 1);
      assert.match(st.stderr, new RegExp(`artifact version '${v.replace(/\./g, '\\.')}' must be greater than current version '0\\.1\\.0' to prevent rollback`));
    }
    const r = await fakeRelease(s.dir, '0.2.0');
    assert.match((await stage(s.env, r.tarball, '--artifact-version', '0.3.0')).stderr, /does not match the artifact's package.json version/);
    assert.match((await stage(s.env, r.tarball, '--artifact-sha256', 'xyz')).stderr, /artifact checksum must be a 64-character SHA-256 hex string/);
    assert.match((await stage(s.env, r.tarball, '--artifact-sha256', r.sha256, '--artifact-sha256-sums-file', 'x')).stderr, /provide either --artifact-sha256 or --artifact-sha256-sums-file, not both/);
    assert.match((await stage(s.env, join(s.dir, 'nope.tar.gz'))).stderr, /artifact binary does not exist/);
    const garbage = join(s.dir, 'garbage.tar.gz');
    writeFileSync(garbage, 'not a tarball at all');
    assert.match((await stage(s.env, garbage)).stderr, /Error: artifact (is not a readable gzip tar archive|refused)/);
    assert.equal(existsSync(join(s.updates, 'blue-green-staged.json')), false);
    const noConfirm = await cli(s.env, 'evolution', 'apply-staged-update');
    assert.equal(noConfirm.code, 2);
    assert.match(noConfirm.stderr, /evolution apply is blocked by policy. Re-run with --confirm/);
    const noManifest = await apply(s.env);
    assert.equal(noManifest.code, 1);
    assert.match(noManifest.stderr, /blue-green-staged.json/);
    assert.equal((await cli(s.env, 'evolution', 'apply-staged-update', '--confirm', '--healthcheck-timeout-secs', 'soon')).code, 2);
    writeFileSync(join(s.updates, 'blue-green-staged.json'), '{ not json');
    assert.match((await apply(s.env)).stderr, /failed decoding staged manifest/);
  } finally {
    s.cleanup();
  }
});

test('unsafe archives are refused before anything is written', async () => {
  const s = setup({ RUSTY_PINCH_EVOLUTION_MAX_UNPACKED_BYTES: '100000' });
  try {
    const py = (name: string, body: string): string => {
      const out = join(s.dir, name);
      const script = `import tarfile, io\nt = tarfile.open(${JSON.stringify(out)}, 'w:gz')\ndef f(n, data=b'x', **kw):\n    i = tarfile.TarInfo(n); i.size = len(data)\n    for k, v in kw.items(): setattr(i, k, v)\n    t.addfile(i, io.BytesIO(data) if i.isfile() else None)\nf('rusty-pinch-0.2.0/package.json', b'{"version":"0.2.0"}')\nf('rusty-pinch-0.2.0/dist/cli.js', b'1')\n${body}\nt.close()\n`;
      const r = spawn('python3', ['-c', script]);
      return new Promise<string>((resolve, reject) => r.on('exit', (c) => (c === 0 ? resolve(out) : reject(new Error('python failed'))))) as unknown as string;
    };
    const cases: Array<[string, string, RegExp]> = [
      ['escape.tar.gz', "f('rusty-pinch-0.2.0/../../evil')", /escapes the slot/],
      ['abs.tar.gz', "f('/tmp/evil')", /escapes the slot|more than one top directory/],
      ['link.tar.gz', "f('rusty-pinch-0.2.0/l', type=tarfile.SYMTYPE, linkname='/etc/passwd')", /points outside the slot/],
      ['link2.tar.gz', "f('rusty-pinch-0.2.0/dist/l', type=tarfile.SYMTYPE, linkname='../../x')", /points outside the slot/],
      ['hard.tar.gz', "f('rusty-pinch-0.2.0/h', type=tarfile.LNKTYPE, linkname='etc/passwd')", /hard link .* points outside the slot/],
      ['fifo.tar.gz', "f('rusty-pinch-0.2.0/p', type=tarfile.FIFOTYPE)", /unsupported type/],
      ['two.tar.gz', "f('other/x')", /more than one top directory/],
      ['big.tar.gz', "f('rusty-pinch-0.2.0/big', b'0' * 200000)", /unpacks to more than 100000 bytes/],
    ];
    for (const [name, body, re] of cases) {
      const file = await (py(name, body) as unknown as Promise<string>);
      const r = await stage(s.env, file);
      assert.equal(r.code, 1, name);
      assert.match(r.stderr, re, name);
    }
    assert.equal(existsSync(join(s.updates, 'blue-green-staged.json')), false);
    assert.equal(existsSync(join(s.dir, 'evil')), false);
  } finally {
    s.cleanup();
  }
});

test('stale manifest: apply refuses, recovery-status says so', async () => {
  const s = setup({ RUSTY_PINCH_EVOLUTION_MAX_STAGED_MANIFEST_AGE_SECS: '60' });
  try {
    const r = await fakeRelease(s.dir, '0.2.0');
    assert.equal((await stage(s.env, r.tarball)).code, 0);
    const p = join(s.updates, 'blue-green-staged.json');
    writeFileSync(p, JSON.stringify({ ...JSON.parse(readFileSync(p, 'utf8')), timestamp: '2000-01-01T00:00:00Z' }, null, 2));
    const rec = await cli(s.env, 'evolution', 'recovery-status');
    assert.equal(rec.json.report.manifest_expired, true);
    assert.equal(rec.json.report.manifest_max_age_secs, 60);
    assert.match(rec.json.report.recommendation, /stale/);
    const ap = await apply(s.env);
    assert.equal(ap.code, 1);
    assert.match(ap.stderr, /staged manifest is stale \(age \d+s >= threshold 60s\); re-stage artifact before apply/);
    assert.equal(JSON.parse(readFileSync(p, 'utf8')).status, 'stale_failed');
  } finally {
    s.cleanup();
  }
});

test('manifest signature: tampered provenance and unknown key id are refused; rotation works', async () => {
  const keyed = { RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY: 'new-signing-key-0123', RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY_ID: '2026-q1', RUSTY_PINCH_EVOLUTION_REQUIRE_MANIFEST_SIGNATURE: 'true' };
  const s = setup(keyed);
  try {
    const r = await fakeRelease(s.dir, '0.2.0');
    assert.equal((await stage(s.env, r.tarball)).code, 0);
    const p = join(s.updates, 'blue-green-staged.json');
    const m = JSON.parse(readFileSync(p, 'utf8'));
    assert.equal(m.manifest_signature_key_id, '2026-q1');
    writeFileSync(p, JSON.stringify({ ...m, artifact_checksum_verified: true }, null, 2));
    const ap = await apply(s.env);
    assert.match(ap.stderr, /staged manifest signature mismatch/);
    assert.equal(JSON.parse(readFileSync(p, 'utf8')).status, 'signature_failed');
    assert.equal((await stage(s.env, r.tarball)).code, 0);
    const other = { ...s.env, RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY: 'other-key-0123456789', RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY_ID: '2026-q2' };
    assert.match((await apply(other)).stderr, /staged manifest signature key id '2026-q1' is not configured/);
    assert.equal((await stage(s.env, r.tarball)).code, 0);
    const rotated = { ...other, RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEYS: '2026-q1|new-signing-key-0123' };
    const ok = await apply(rotated);
    assert.equal(ok.json?.status, 'activated', ok.stderr);
    const slot = await cli(rotated, 'evolution', 'active-slot-status');
    assert.equal(slot.json.report.status, 'valid');
    assert.equal(slot.json.report.key_id, '2026-q2');
    // A marker edited without the key: refused by the launcher, alerted by the monitor.
    writeFileSync(join(s.updates, 'active-slot'), 'blue\n');
    const edited = await cli(rotated, 'evolution', 'active-slot-status');
    assert.equal(edited.json.report.status, 'signature_invalid');
    const mon = await cli(rotated, 'monitor', '--once', '--pid', String(process.pid));
    assert.match(mon.stdout, /evolution_alert: active-slot integrity active-slot signature slot mismatch \(marker 'blue', signature 'green'\)/);
    const v = await launch(rotated, '--version');
    assert.equal(v.stdout.trim(), '0.1.0');
    assert.match(v.stderr, /rusty-pinch: active update slot blue rejected \(active-slot signature slot mismatch/);
  } finally {
    s.cleanup();
  }
});

for (const point of ['applying', 'sidecar_written', 'healthcheck_pending', 'healthcheck_done']) {
  test(`kill -9 after checkpoint '${point}', then apply resumes and activates`, async () => {
    const s = setup({ RUSTY_PINCH_EVOLUTION_ACTIVE_SLOT_SIGNING_KEY: 'slot-signing-key-0123', RUSTY_PINCH_EVOLUTION_REQUIRE_SIGNED_ACTIVE_SLOT: 'true' });
    try {
      const r = await fakeRelease(s.dir, '0.2.0');
      assert.equal((await stage(s.env, r.tarball)).code, 0);
      const run = spawnUntil({ ...s.env, RUSTY_PINCH_TEST_PAUSE_AT: point }, ['evolution', 'apply-staged-update', '--confirm'], `"status":"${point}"`);
      await run.seen;
      run.child.kill('SIGKILL');
      assert.ok(await processGone(run.child.pid!, 10_000));
      const rec = await cli(s.env, 'evolution', 'recovery-status');
      assert.match(String(rec.json.report.manifest_status), /applying|healthcheck_pending/);
      const ap = await apply(s.env);
      assert.equal(ap.code, 0, ap.stderr);
      assert.equal(ap.json.status, 'activated');
      assert.equal((await launch(s.env, '--version')).stdout.trim(), '0.2.0');
      const m = JSON.parse(readFileSync(join(s.updates, 'blue-green-staged.json'), 'utf8'));
      assert.equal(m.apply_resume_count, 1);
      assert.match(m.last_recovery_note, /resumed/);
      assert.equal((await cli(s.env, 'evolution', 'audit-verify')).code, 0);
    } finally {
      s.cleanup();
    }
  });
}

test('a hung health check is killed with its process group and rolled back', async () => {
  const s = setup();
  try {
    const pidFile = join(s.dir, 'grandchild.pid');
    const hang = `import { spawn } from 'node:child_process'; import { writeFileSync } from 'node:fs';
if (process.argv.includes('doctor')) { const c = spawn('sleep', ['300'], { stdio: 'inherit' }); writeFileSync(${JSON.stringify(pidFile)}, String(c.pid)); setInterval(() => {}, 1000); await new Promise(() => {}); }`;
    const r = await fakeRelease(s.dir, '0.2.0', hang);
    assert.equal((await stage(s.env, r.tarball)).code, 0);
    const ap = await cli(s.env, 'evolution', 'apply-staged-update', '--confirm', '--healthcheck-timeout-secs', '2');
    assert.equal(ap.code, 0, ap.stderr);
    assert.equal(ap.json.status, 'rolled_back');
    assert.equal(ap.json.report.healthcheck_timed_out, true);
    assert.match(ap.json.report.healthcheck_stderr, /health check timed out after 2 seconds and process was killed/);
    assert.equal(ap.json.report.running, 'installed');
    assert.ok(await processGone(Number(readFileSync(pidFile, 'utf8')), 10_000), 'grandchild killed');
    assert.equal((await launch(s.env, '--version')).stdout.trim(), '0.1.0');
  } finally {
    s.cleanup();
  }
});

test('the failure circuit opens after N failed applies and its reset lets a good one through', async () => {
  const s = setup({ RUSTY_PINCH_EVOLUTION_MAX_CONSECUTIVE_APPLY_FAILURES: '2' });
  try {
    const failing = await fakeRelease(s.dir, '0.2.0', "if (process.argv.includes('doctor')) { console.error('doctor: broken'); process.exit(3); }");
    for (let i = 0; i < 2; i++) {
      assert.equal((await stage(s.env, failing.tarball)).code, 0);
      const ap = await apply(s.env);
      assert.equal(ap.json.status, 'rolled_back');
      assert.equal(ap.json.report.healthcheck_exit_code, 3);
      assert.match(ap.json.report.healthcheck_stderr, /doctor: broken/);
    }
    const st = await cli(s.env, 'evolution', 'failure-circuit-status');
    assert.equal(st.json.report.circuit_open, true);
    assert.equal(st.json.report.consecutive_failures, 2);
    const mon = await cli(s.env, 'monitor', '--once', '--pid', String(process.pid));
    assert.match(mon.stdout, /evolution: skill=<none> \(n\/a\) apply=rolled_back rollback=true timeout=false/);
    assert.match(mon.stdout, /evolution_failure_circuit: open=true failures=2 threshold=2/);
    assert.match(mon.stdout, /evolution_alert: apply failure circuit open; reset only after remediation/);
    const good = await fakeRelease(s.dir, '0.2.0');
    assert.equal((await stage(s.env, good.tarball)).code, 0);
    assert.match((await apply(s.env)).stderr, /evolution apply is blocked by failure circuit after 2 consecutive failures \(threshold 2\)/);
    const noConfirm = await cli(s.env, 'evolution', 'failure-circuit-reset');
    assert.equal(noConfirm.code, 2);
    assert.match(noConfirm.stderr, /evolution failure-circuit-reset requires explicit confirmation. Re-run with --confirm/);
    const reset = await cli(s.env, 'evolution', 'failure-circuit-reset', '--confirm');
    assert.equal(reset.json.report.circuit_open, false);
    assert.equal(reset.json.report.consecutive_failures, 0);
    assert.equal((await apply(s.env)).json.status, 'activated');
    assert.equal((await cli(s.env, 'evolution', 'failure-circuit-status')).json.report.last_success_at !== null, true);
    const stats = await cli(s.env, 'stats');
    assert.equal(stats.json.telemetry.evolution.last_apply_status, 'activated');
    assert.equal(stats.json.telemetry.evolution.apply_failure_circuit_open, false);
  } finally {
    s.cleanup();
  }
});

test('audit-verify catches an edited record and a chain rewritten without the key', async () => {
  const s = setup({ RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY: 'audit-key-0123456789' });
  try {
    const r = await fakeRelease(s.dir, '0.2.0');
    assert.equal((await stage(s.env, r.tarball)).code, 0);
    assert.equal((await stage(s.env, r.tarball)).code, 0);
    const log = join(s.updates, 'evolution-audit.jsonl');
    const ok = await cli(s.env, 'evolution', 'audit-verify');
    assert.equal(ok.json.report.entries, 2);
    const original = readFileSync(log, 'utf8');
    const lines = original.trim().split('\n').map((l) => JSON.parse(l));
    // Edit a field the original's hash did not cover.
    writeFileSync(log, [JSON.stringify({ ...lines[0], last_recovery_note: 'edited' }), JSON.stringify(lines[1])].join('\n') + '\n');
    const bad = await cli(s.env, 'evolution', 'audit-verify');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Error: audit hash mismatch at line 1/);
    // Rewrite the whole chain with recomputed plain hashes: refused while a key is configured.
    const { createHash } = await import('node:crypto');
    let prev: string | null = null;
    const forged = lines.map((l) => {
      const rec: Record<string, unknown> = { ...l, hash_alg: 'sha256', key_id: null, prev_hash: prev };
      delete rec.hash;
      const payload = JSON.stringify(Object.keys(rec).sort().map((k) => [k, rec[k] ?? null]));
      rec.hash = createHash('sha256').update(payload).digest('hex');
      prev = rec.hash as string;
      return JSON.stringify(rec);
    });
    writeFileSync(log, forged.join('\n') + '\n');
    assert.match((await cli(s.env, 'evolution', 'audit-verify')).stderr, /line 1 is not keyed/);
    // …and the forged chain verifies without a key (that is what the key buys).
    const unkeyed = { ...s.env, RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY: '' };
    assert.equal((await cli(unkeyed, 'evolution', 'audit-verify')).code, 0);
    writeFileSync(log, original.replace(/"prev_hash":"[0-9a-f]{64}"/, `"prev_hash":"${'0'.repeat(64)}"`));
    assert.match((await cli(s.env, 'evolution', 'audit-verify')).stderr, /audit hash mismatch at line 2|prev_hash mismatch at line 2/);
    writeFileSync(log, original + '{garbage\n');
    assert.match((await cli(s.env, 'evolution', 'audit-verify')).stderr, /failed decoding evolution audit record at line 3/);
  } finally {
    s.cleanup();
  }
});

test('lock contention between two processes; a killed holder is recovered', async () => {
  const s = setup();
  try {
    const r = await fakeRelease(s.dir, '0.2.0');
    assert.equal((await stage(s.env, r.tarball)).code, 0);
    const holder = spawnUntil({ ...s.env, RUSTY_PINCH_TEST_PAUSE_AT: 'healthcheck_pending' }, ['evolution', 'apply-staged-update', '--confirm'], '"status":"healthcheck_pending"');
    await holder.seen;
    const second = await stage(s.env, r.tarball);
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(`another evolution operation is already in progress: operation=apply-staged-update pid=${holder.child.pid} started_at=\\S+ \\(lock: `));
    const st = await cli(s.env, 'evolution', 'lock-status');
    assert.equal(st.json.report.holder_alive, true);
    assert.equal(st.json.report.stale, false);
    assert.equal((await cli(s.env, 'evolution', 'force-unlock')).code, 2);
    holder.child.kill('SIGKILL');
    assert.ok(await processGone(holder.child.pid!, 10_000));
    const dead = await cli(s.env, 'evolution', 'lock-status');
    assert.equal(dead.json.report.holder_alive, false);
    assert.equal(dead.json.report.stale, true);
    const ap = await apply(s.env);
    assert.equal(ap.json?.status, 'activated', ap.stderr);
    assert.match(ap.stderr, /evolution_lock_recovered/);
    writeFileSync(join(s.updates, 'evolution.lock'), 'operation=stage-update pid=1 started_at=2000-01-01T00:00:00Z\n');
    const fu = await cli(s.env, 'evolution', 'force-unlock', '--confirm');
    assert.equal(fu.json.report.force_unlocked, true);
    assert.equal(fu.json.report.operation, 'stage-update');
  } finally {
    s.cleanup();
  }
});
