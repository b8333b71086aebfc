// The RUSTY_PINCH_EVOLUTION_* policy, read from the merged environment (process env + .env).
// Kept free of the app's config loader so the launcher can read it in a few microseconds.
import { registerSecrets } from '../kernel/index.js';

export type Env = Record<string, string | undefined>;

export interface SigningKey {
  id: string;
  secret: string;
}

export interface EvolutionSettings {
  workspace: string;
  requireApplyConfirm: boolean;
  requireStageArtifactSha256: boolean;
  requireVerifiedStageArtifactSha256: boolean;
  requireSignedChecksumManifestProvenance: boolean;
  requireNonRollbackVersion: boolean;
  trustedSha256SumsSha256: string | undefined;
  trustedSha256SumsEd25519PublicKey: string | undefined;
  requireSha256SumsSignature: boolean;
  /** The single key that signs new manifests (and the audit chain). */
  manifestKey: SigningKey | undefined;
  /** Every key accepted when verifying manifests (keyring + the signing key, which wins). */
  manifestKeyring: SigningKey[];
  requireManifestSignature: boolean;
  activeSlotKey: SigningKey | undefined;
  requireSignedActiveSlot: boolean;
  /** 0 disables. */
  maxStagedManifestAgeSecs: number;
  /** 0 disables. */
  maxConsecutiveApplyFailures: number;
  /** 0 disables. */
  lockStaleAfterSecs: number;
  autoRecoverStaleLock: boolean;
  /** Our additions. */
  maxUnpackedBytes: number;
  restartServeOnActivation: boolean;
  /** A serve on a freshly activated slot must be ready within this, else it rolls back. */
  serveReadyTimeoutSecs: number;
}


function str(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const v = str(env, name)?.toLowerCase();
  if (v === undefined) return def;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return def;
}

function int(env: Env, name: string, def: number): number {
  const v = str(env, name);
  if (v === undefined || !/^\d{1,15}$/.test(v)) return def;
  return Number(v);
}

/** `id|key;id|key`: split at the first `|`, skip blanks, later wins (case-insensitive id). */
export function parseKeyring(text: string | undefined): SigningKey[] {
  const out: SigningKey[] = [];
  for (const part of (text ?? '').split(';')) {
    const p = part.trim();
    const i = p.indexOf('|');
    if (i < 0) continue;
    const id = p.slice(0, i).trim();
    const secret = p.slice(i + 1).trim();
    if (!id || !secret) continue;
    upsert(out, { id, secret });
  }
  return out;
}

function upsert(list: SigningKey[], key: SigningKey): void {
  const i = list.findIndex((k) => k.id.toLowerCase() === key.id.toLowerCase());
  if (i >= 0) list[i] = key;
  else list.push(key);
}

function manifestSigningKey(env: Env): SigningKey | undefined {
  const secret = str(env, 'RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY');
  return secret ? { id: str(env, 'RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY_ID') ?? 'default', secret } : undefined;
}

function activeSlotSigningKey(env: Env, manifestKey: SigningKey | undefined): SigningKey | undefined {
  const secret = str(env, 'RUSTY_PINCH_EVOLUTION_ACTIVE_SLOT_SIGNING_KEY') ?? manifestKey?.secret;
  return secret ? { id: str(env, 'RUSTY_PINCH_EVOLUTION_ACTIVE_SLOT_SIGNING_KEY_ID') ?? manifestKey?.id ?? 'default', secret } : undefined;
}

/** What the launcher needs of the policy (the same values as evolutionSettings), read cheaply. */
export function activeSlotPolicy(env: Env): { key: SigningKey | undefined; requireSigned: boolean } {
  const key = activeSlotSigningKey(env, manifestSigningKey(env));
  registerSecrets([key?.secret]);
  return { key, requireSigned: bool(env, 'RUSTY_PINCH_EVOLUTION_REQUIRE_SIGNED_ACTIVE_SLOT', false) };
}

export function evolutionSettings(env: Env, workspace: string): EvolutionSettings {
  const manifestKey = manifestSigningKey(env);
  const keyring = parseKeyring(env['RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEYS']);
  if (manifestKey) upsert(keyring, manifestKey);
  const activeSlotKey = activeSlotSigningKey(env, manifestKey);
  registerSecrets([...keyring.map((k) => k.secret), ...(activeSlotKey ? [activeSlotKey.secret] : [])]);
  return {
    workspace,
    requireApplyConfirm: bool(env, 'RUSTY_PINCH_EVOLUTION_REQUIRE_APPLY_CONFIRM', true),
    requireStageArtifactSha256: bool(env, 'RUSTY_PINCH_EVOLUTION_REQUIRE_STAGE_ARTIFACT_SHA256', false),
    requireVerifiedStageArtifactSha256: bool(env, 'RUSTY_PINCH_EVOLUTION_REQUIRE_VERIFIED_STAGE_ARTIFACT_SHA256', false),
    requireSignedChecksumManifestProvenance: bool(env, 'RUSTY_PINCH_EVOLUTION_REQUIRE_SIGNED_CHECKSUM_MANIFEST_PROVENANCE', false),
    requireNonRollbackVersion: bool(env, 'RUSTY_PINCH_EVOLUTION_REQUIRE_NON_ROLLBACK_VERSION', false),
    trustedSha256SumsSha256: str(env, 'RUSTY_PINCH_EVOLUTION_TRUSTED_SHA256SUMS_SHA256')?.toLowerCase(),
    trustedSha256SumsEd25519PublicKey: str(env, 'RUSTY_PINCH_EVOLUTION_TRUSTED_SHA256SUMS_ED25519_PUBLIC_KEY'),
    requireSha256SumsSignature: bool(env, 'RUSTY_PINCH_EVOLUTION_REQUIRE_SHA256SUMS_SIGNATURE', false),
    manifestKey,
    manifestKeyring: keyring,
    requireManifestSignature: bool(env, 'RUSTY_PINCH_EVOLUTION_REQUIRE_MANIFEST_SIGNATURE', false),
    activeSlotKey,
    requireSignedActiveSlot: bool(env, 'RUSTY_PINCH_EVOLUTION_REQUIRE_SIGNED_ACTIVE_SLOT', false),
    maxStagedManifestAgeSecs: int(env, 'RUSTY_PINCH_EVOLUTION_MAX_STAGED_MANIFEST_AGE_SECS', 86_400),
    maxConsecutiveApplyFailures: int(env, 'RUSTY_PINCH_EVOLUTION_MAX_CONSECUTIVE_APPLY_FAILURES', 3),
    lockStaleAfterSecs: int(env, 'RUSTY_PINCH_EVOLUTION_LOCK_STALE_AFTER_SECS', 900),
    autoRecoverStaleLock: bool(env, 'RUSTY_PINCH_EVOLUTION_AUTO_RECOVER_STALE_LOCK', true),
    maxUnpackedBytes: int(env, 'RUSTY_PINCH_EVOLUTION_MAX_UNPACKED_BYTES', 512 * 1024 * 1024),
    restartServeOnActivation: bool(env, 'RUSTY_PINCH_EVOLUTION_RESTART_SERVE_ON_ACTIVATION', true),
    serveReadyTimeoutSecs: Math.max(1, int(env, 'RUSTY_PINCH_EVOLUTION_SERVE_READY_TIMEOUT_SECS', 120)),
  };
}
