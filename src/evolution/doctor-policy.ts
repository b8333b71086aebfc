// The evolution policy as `doctor` shows it (reference extensions §4: each policy value, with
// `<disabled>` for off values and `<unset>` for missing key ids, and a warning for each
// combination that weakens or contradicts the gates). Pure: settings in, lines out.
import type { Env, EvolutionSettings, SigningKey } from './settings.js';

export interface PolicyCheck {
  level: 'warning' | 'error';
  message: string;
  hint?: string;
}

export interface EvolutionDoctor {
  fields: Array<[string, string | number | boolean]>;
  checks: PolicyCheck[];
}

const MIN_KEY_CHARS = 16;

const disabledIfZero = (n: number): number | string => (n === 0 ? '<disabled>' : n);

/** True when `text` decodes (hex or base64) to a 32-byte Ed25519 public key. */
function isPublicKeyMaterial(text: string): boolean {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return true;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return false;
  return Buffer.from(t, 'base64').length === 32;
}

/** `env` is the merged environment the settings came from (key-id variables are read raw). */
export function evolutionDoctor(e: EvolutionSettings, env: Env): EvolutionDoctor {
  const fields: EvolutionDoctor['fields'] = [
    ['evolution_require_apply_confirm', e.requireApplyConfirm],
    ['evolution_require_stage_artifact_sha256', e.requireStageArtifactSha256],
    ['evolution_require_verified_stage_artifact_sha256', e.requireVerifiedStageArtifactSha256],
    ['evolution_require_signed_checksum_manifest_provenance', e.requireSignedChecksumManifestProvenance],
    ['evolution_require_non_rollback_version', e.requireNonRollbackVersion],
    ['evolution_require_sha256sums_signature', e.requireSha256SumsSignature],
    ['evolution_trusted_sha256sums_sha256', e.trustedSha256SumsSha256 ? 'set' : '<unset>'],
    ['evolution_trusted_sha256sums_ed25519_public_key', e.trustedSha256SumsEd25519PublicKey ? 'set' : '<unset>'],
    ['evolution_require_manifest_signature', e.requireManifestSignature],
    ['evolution_manifest_signing_key_id', e.manifestKey?.id ?? '<unset>'],
    ['evolution_manifest_keyring_size', e.manifestKeyring.length],
    ['evolution_require_signed_active_slot', e.requireSignedActiveSlot],
    ['evolution_active_slot_signing_key_id', e.activeSlotKey?.id ?? '<unset>'],
    ['evolution_max_staged_manifest_age_secs', disabledIfZero(e.maxStagedManifestAgeSecs)],
    ['evolution_max_consecutive_apply_failures', disabledIfZero(e.maxConsecutiveApplyFailures)],
    ['evolution_lock_stale_after_secs', disabledIfZero(e.lockStaleAfterSecs)],
    ['evolution_auto_recover_stale_lock', e.autoRecoverStaleLock],
  ];
  const checks: PolicyCheck[] = [];
  const warn = (message: string, hint?: string) => checks.push({ level: 'warning', message, ...(hint ? { hint } : {}) });
  const signing = e.manifestKeyring.length > 0;

  if (e.requireManifestSignature && !signing) warn('evolution manifest signatures are required but no signing key is configured', 'Set RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY (or _SIGNING_KEYS).');
  if (env.RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY_ID?.trim() && !e.manifestKey) warn('RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY_ID is set without RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY');
  if (e.requireVerifiedStageArtifactSha256 && !e.requireStageArtifactSha256) warn('verified stage artifacts are required while stage checksums are not: stage may produce manifests apply rejects', 'Set RUSTY_PINCH_EVOLUTION_REQUIRE_STAGE_ARTIFACT_SHA256=true.');
  // Freshness is on by default; it counts here only when the operator set it (a fresh install stays `ok`).
  const freshnessSet = Boolean(env.RUSTY_PINCH_EVOLUTION_MAX_STAGED_MANIFEST_AGE_SECS?.trim()) && e.maxStagedManifestAgeSecs > 0;
  if (!signing && (e.requireVerifiedStageArtifactSha256 || e.requireNonRollbackVersion || freshnessSet)) warn('evolution gates are enabled without manifest signatures: tampering protections are weaker', 'Set RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY.');
  if (e.requireSignedChecksumManifestProvenance && !e.requireSha256SumsSignature) warn('signed checksum provenance is required but SHA256SUMS signatures are not', 'Set RUSTY_PINCH_EVOLUTION_REQUIRE_SHA256SUMS_SIGNATURE=true.');
  if (e.requireSignedChecksumManifestProvenance && !e.trustedSha256SumsEd25519PublicKey) warn('signed checksum provenance is required but no Ed25519 public key is configured', 'Set RUSTY_PINCH_EVOLUTION_TRUSTED_SHA256SUMS_ED25519_PUBLIC_KEY.');
  if (e.maxStagedManifestAgeSecs === 0) warn('staged manifest freshness is disabled: stale staged manifests can be applied');
  if (e.trustedSha256SumsSha256 && !/^[0-9a-f]{64}$/.test(e.trustedSha256SumsSha256)) checks.push({ level: 'error', message: 'RUSTY_PINCH_EVOLUTION_TRUSTED_SHA256SUMS_SHA256 is not 64 hex characters' });
  if (e.requireSha256SumsSignature && !e.trustedSha256SumsEd25519PublicKey) warn('SHA256SUMS signatures are required but no Ed25519 public key is configured', 'Set RUSTY_PINCH_EVOLUTION_TRUSTED_SHA256SUMS_ED25519_PUBLIC_KEY.');
  if (e.trustedSha256SumsEd25519PublicKey && !isPublicKeyMaterial(e.trustedSha256SumsEd25519PublicKey)) checks.push({ level: 'error', message: 'RUSTY_PINCH_EVOLUTION_TRUSTED_SHA256SUMS_ED25519_PUBLIC_KEY is not a 32-byte key in hex or base64' });
  const short = (k: SigningKey | undefined) => k !== undefined && k.secret.length < MIN_KEY_CHARS;
  if (e.manifestKeyring.some((k) => k.secret.length < MIN_KEY_CHARS)) warn(`an evolution manifest signing key is shorter than ${MIN_KEY_CHARS} characters`);
  const ids = (env.RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEYS ?? '').split(';').map((p) => p.split('|')[0]!.trim().toLowerCase()).filter(Boolean);
  if (new Set(ids).size !== ids.length) warn('RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEYS names a key id twice (case-insensitive); the later one wins');
  if (e.autoRecoverStaleLock && e.lockStaleAfterSecs === 0) warn('stale-lock auto-recovery is on but stale-lock detection is disabled (LOCK_STALE_AFTER_SECS=0)');
  if (e.maxConsecutiveApplyFailures === 0) warn('the update failure circuit is disabled: failed applies are retried without limit');
  if (e.requireSignedActiveSlot && !e.activeSlotKey) warn('a signed active slot is required but no active-slot signing key is configured', 'Set RUSTY_PINCH_EVOLUTION_ACTIVE_SLOT_SIGNING_KEY (or the manifest signing key).');
  if (env.RUSTY_PINCH_EVOLUTION_ACTIVE_SLOT_SIGNING_KEY_ID?.trim() && !e.activeSlotKey) warn('RUSTY_PINCH_EVOLUTION_ACTIVE_SLOT_SIGNING_KEY_ID is set without a key');
  if (short(e.activeSlotKey)) warn(`the active-slot signing key is shorter than ${MIN_KEY_CHARS} characters`);
  return { fields, checks };
}
