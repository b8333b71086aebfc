// The staged manifest (`updates/blue-green-staged.json`, pretty JSON, reference §4.9) and its
// HMAC-SHA256 signature over the provenance fields (the original's "v4" payload, §4.11). For our
// slots, `passive_binary_path` is the slot's dist/cli.js and `passive_binary_sha256` is the
// SHA-256 of the slot's tree listing, so the signature pins every file of the slot. Only the
// current payload is accepted (the original's three legacy payloads are not: nothing was ever
// signed with them here), and signatures are compared in constant time.
import { readFileSync } from 'node:fs';
import { EvolutionError } from '../errors.js';
import { isNotFound, writeFileAtomic } from '../fs-util.js';
import { nodeCrypto } from '../lazy-crypto.js';
import type { SigningKey } from '../settings.js';

export const IN_PROGRESS = ['applying', 'healthcheck_pending'] as const;
export const TERMINAL = ['activated', 'rolled_back'] as const;

export interface StagedManifest {
  timestamp: string;
  status: string;
  active_slot: string;
  passive_slot: string;
  apply_started_at: string | null;
  apply_from_slot: string | null;
  apply_to_slot: string | null;
  apply_resume_count: number | null;
  last_recovery_note: string | null;
  last_observed_active_slot: string | null;
  current_binary_version: string | null;
  artifact_binary_version: string | null;
  checksum_manifest_path: string | null;
  checksum_manifest_sha256: string | null;
  checksum_manifest_signature_path: string | null;
  checksum_manifest_signature_verified: boolean | null;
  artifact_binary_path: string | null;
  artifact_binary_sha256: string | null;
  artifact_checksum_verified: boolean | null;
  passive_binary_path: string;
  passive_binary_sha256: string | null;
  manifest_signature: string | null;
  manifest_signature_key_id: string | null;
  manifest_signature_algorithm: string | null;
  rollback_binary: string;
  healthcheck_stdout: string | null;
  healthcheck_stderr: string | null;
  healthcheck_exit_code: number | null;
  healthcheck_timed_out: boolean | null;
  healthcheck_timeout_secs: number | null;
  error: string | null;
}

const FIELDS: Array<keyof StagedManifest> = [
  'timestamp', 'status', 'active_slot', 'passive_slot', 'apply_started_at', 'apply_from_slot', 'apply_to_slot', 'apply_resume_count',
  'last_recovery_note', 'last_observed_active_slot', 'current_binary_version', 'artifact_binary_version', 'checksum_manifest_path',
  'checksum_manifest_sha256', 'checksum_manifest_signature_path', 'checksum_manifest_signature_verified', 'artifact_binary_path',
  'artifact_binary_sha256', 'artifact_checksum_verified', 'passive_binary_path', 'passive_binary_sha256', 'manifest_signature',
  'manifest_signature_key_id', 'manifest_signature_algorithm', 'rollback_binary', 'healthcheck_stdout', 'healthcheck_stderr',
  'healthcheck_exit_code', 'healthcheck_timed_out', 'healthcheck_timeout_secs', 'error',
];
const REQUIRED: Array<keyof StagedManifest> = ['timestamp', 'status', 'active_slot', 'passive_slot', 'passive_binary_path', 'rollback_binary'];

/** Reads the manifest; undefined when absent; throws the original's messages when unreadable. */
export function readManifest(path: string): StagedManifest | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw new EvolutionError(`failed reading staged manifest ${path}: ${(err as Error).message}`);
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('not an object');
  } catch (err) {
    throw new EvolutionError(`failed decoding staged manifest ${path}: ${(err as Error).message}`);
  }
  for (const k of REQUIRED) if (typeof raw[k] !== 'string') throw new EvolutionError(`failed decoding staged manifest ${path}: missing field ${k}`);
  const out: Record<string, unknown> = {};
  for (const k of FIELDS) out[k] = raw[k] ?? null;
  return out as unknown as StagedManifest;
}

export function requireManifest(path: string): StagedManifest {
  const m = readManifest(path);
  if (!m) throw new EvolutionError(`failed reading staged manifest ${path}: file does not exist`, { hint: 'stage an update first: rusty-pinch evolution stage-update --artifact <release.tar.gz>' });
  return m;
}

export function writeManifest(path: string, m: StagedManifest): void {
  const ordered: Record<string, unknown> = {};
  for (const k of FIELDS) ordered[k] = m[k];
  writeFileAtomic(path, JSON.stringify(ordered, null, 2) + '\n', path.replace(/\.json$/, '.tmp'));
}

const PAYLOAD: Array<keyof StagedManifest> = [
  'timestamp', 'status', 'active_slot', 'passive_slot', 'current_binary_version', 'artifact_binary_version', 'checksum_manifest_path',
  'checksum_manifest_sha256', 'checksum_manifest_signature_path', 'checksum_manifest_signature_verified', 'artifact_binary_path',
  'artifact_binary_sha256', 'artifact_checksum_verified', 'passive_binary_path', 'passive_binary_sha256', 'rollback_binary', 'manifest_signature_key_id',
];

/** `key=value\n` per field; absent strings and absent booleans render as '' and `false`. */
export function signingPayload(m: StagedManifest): string {
  const bools = new Set(['checksum_manifest_signature_verified', 'artifact_checksum_verified']);
  return PAYLOAD.map((k) => {
    const v = m[k];
    const text = v === null || v === undefined ? (bools.has(k) ? 'false' : '') : String(v);
    return `${k}=${text}\n`;
  }).join('');
}

export function hmacHex(secret: string, payload: string): string {
  return nodeCrypto().createHmac('sha256', Buffer.from(secret.trim(), 'utf8')).update(payload).digest('hex');
}

export function sameHex(a: string, b: string): boolean {
  return a.length === b.length && nodeCrypto().timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export function signManifest(m: StagedManifest, key: SigningKey): void {
  m.manifest_signature_key_id = key.id;
  m.manifest_signature_algorithm = 'hmac-sha256';
  m.manifest_signature = hmacHex(key.secret, signingPayload(m));
}

/** The apply gate "signature" (§4.11 steps 1-7). */
export function verifyManifestSignature(m: StagedManifest, keyring: SigningKey[], required: boolean): void {
  const sig = m.manifest_signature?.trim().toLowerCase() ?? '';
  if (keyring.length === 0 && required) throw new EvolutionError('manifest signature verification required but no signing key is configured');
  if (required && !sig) throw new EvolutionError('staged manifest signature is required but missing; re-stage update');
  if (keyring.length === 0) return;
  if (!sig) throw new EvolutionError('signing keys are configured but staged manifest is unsigned; re-stage update');
  const alg = m.manifest_signature_algorithm?.trim();
  if (alg && alg.toLowerCase() !== 'hmac-sha256') throw new EvolutionError(`unsupported staged manifest signature algorithm '${alg}'`);
  let key: SigningKey | undefined;
  const id = m.manifest_signature_key_id?.trim();
  if (id) {
    key = keyring.find((k) => k.id.toLowerCase() === id.toLowerCase());
    if (!key) throw new EvolutionError(`staged manifest signature key id '${id}' is not configured`);
  } else if (keyring.length === 1) key = keyring[0];
  else throw new EvolutionError(`staged manifest signature key id is missing and ${keyring.length} signing keys are configured; re-stage update`);
  if (!sameHex(hmacHex(key!.secret, signingPayload(m)), sig)) throw new EvolutionError('staged manifest signature mismatch');
}
