import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evolutionDoctor, evolutionSettings } from '../src/evolution/index.js';
import { startCli, cleanEnv, tempDir } from './helpers.js';

const report = (env: Record<string, string>) => evolutionDoctor(evolutionSettings(env, '/ws'), env);
const messages = (env: Record<string, string>) => report(env).checks.map((c) => `${c.level}: ${c.message}`);

test('evolution policy: defaults print every gate and warn about nothing', () => {
  const r = report({});
  assert.deepEqual(r.checks, []);
  const f = Object.fromEntries(r.fields);
  assert.equal(f.evolution_require_apply_confirm, true);
  assert.equal(f.evolution_manifest_signing_key_id, '<unset>');
  assert.equal(f.evolution_max_staged_manifest_age_secs, 86400);
});

test('evolution policy: off values read <disabled>, and weak or contradictory combinations warn', () => {
  const f = Object.fromEntries(report({ RUSTY_PINCH_EVOLUTION_MAX_CONSECUTIVE_APPLY_FAILURES: '0', RUSTY_PINCH_EVOLUTION_LOCK_STALE_AFTER_SECS: '0' }).fields);
  assert.equal(f.evolution_max_consecutive_apply_failures, '<disabled>');
  assert.equal(f.evolution_lock_stale_after_secs, '<disabled>');
  const m = messages({
    RUSTY_PINCH_EVOLUTION_REQUIRE_MANIFEST_SIGNATURE: 'true',
    RUSTY_PINCH_EVOLUTION_REQUIRE_VERIFIED_STAGE_ARTIFACT_SHA256: 'true',
    RUSTY_PINCH_EVOLUTION_REQUIRE_SHA256SUMS_SIGNATURE: 'true',
    RUSTY_PINCH_EVOLUTION_MAX_STAGED_MANIFEST_AGE_SECS: '0',
    RUSTY_PINCH_EVOLUTION_LOCK_STALE_AFTER_SECS: '0',
    RUSTY_PINCH_EVOLUTION_MAX_CONSECUTIVE_APPLY_FAILURES: '0',
    RUSTY_PINCH_EVOLUTION_REQUIRE_SIGNED_ACTIVE_SLOT: 'true',
  }).join('\n');
  for (const want of [/signatures are required but no signing key/, /stage may produce manifests apply rejects/, /tampering protections are weaker/, /no Ed25519 public key/, /stale staged manifests can be applied/, /auto-recovery is on but stale-lock detection is disabled/, /failure circuit is disabled/, /signed active slot is required but no active-slot signing key/]) {
    assert.match(m, want);
  }
});

test('evolution policy: garbage pins and keys are errors; short and duplicate keys warn', () => {
  const m = messages({
    RUSTY_PINCH_EVOLUTION_TRUSTED_SHA256SUMS_SHA256: 'not-hex',
    RUSTY_PINCH_EVOLUTION_TRUSTED_SHA256SUMS_ED25519_PUBLIC_KEY: '%%%garbage',
    RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEYS: 'a|short;A|another-long-enough-key',
  }).join('\n');
  assert.match(m, /error: .*TRUSTED_SHA256SUMS_SHA256 is not 64 hex/);
  assert.match(m, /error: .*ED25519_PUBLIC_KEY is not a 32-byte key/);
  assert.match(m, /names a key id twice/);
  assert.deepEqual(messages({ RUSTY_PINCH_EVOLUTION_TRUSTED_SHA256SUMS_ED25519_PUBLIC_KEY: Buffer.alloc(32, 7).toString('base64') }), []);
  assert.match(messages({ RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY: 'short' }).join('\n'), /shorter than 16/);
});

test('doctor prints the evolution policy and fails on a garbage pin, never showing a key', async () => {
  const { dir, cleanup } = tempDir('rp-evodoc-');
  try {
    const key = 'evolution-signing-key-value-123';
    const ok = await startCli(['doctor'], cleanEnv(dir, { RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY: key })).result;
    assert.match(ok.stdout, /evolution_require_apply_confirm: true/);
    assert.match(ok.stdout, /evolution_manifest_signing_key_id: default/);
    assert.ok(!ok.stdout.includes(key) && !ok.stderr.includes(key));
    const bad = await startCli(['doctor', '--json'], cleanEnv(dir, { RUSTY_PINCH_EVOLUTION_TRUSTED_SHA256SUMS_SHA256: 'zz' })).result;
    assert.equal(bad.code, 1);
    const j = JSON.parse(bad.stdout);
    assert.equal(j.status, 'error');
    assert.equal(j.evolution_trusted_sha256sums_sha256, 'set');
  } finally {
    cleanup();
  }
});
