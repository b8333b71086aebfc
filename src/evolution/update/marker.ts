// The active-slot marker (`updates/active-slot`: `blue\n` or `green\n`) and its HMAC sidecar
// (`updates/active-slot.sig`, reference §4.8). Our sidecar also signs the slot's tree hash and
// fingerprint hash, so an old (marker, sidecar) pair cannot be replayed onto different slot
// content. No marker means "run the installed build".
import { readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { EvolutionError } from '../errors.js';
import { isNotFound, nowStamp, writeFileAtomic } from '../fs-util.js';
import type { SigningKey } from '../settings.js';
import { hmacHex, sameHex } from './manifest.js';

export type Slot = 'blue' | 'green';

export interface SlotSignature {
  slot: string;
  signature: string;
  signature_algorithm: string;
  signature_key_id: string | null;
  signed_at: string;
  slot_tree_sha256?: string;
  fingerprint_sha256?: string;
}

export interface IntegrityReport {
  marker_path: string;
  signature_path: string;
  marker_exists: boolean;
  slot: string | null;
  signature_present: boolean;
  signature_verified: boolean | null;
  status: string;
  message: string;
  require_signed: boolean;
  key_loaded: boolean;
  key_id: string | null;
  /** Signed binding, when present. */
  slot_tree_sha256: string | null;
  fingerprint_sha256: string | null;
}

export interface MarkerPolicy {
  key: SigningKey | undefined;
  requireSigned: boolean;
}

export function markerPaths(updatesDir: string): { marker: string; sig: string } {
  return { marker: join(updatesDir, 'active-slot'), sig: join(updatesDir, 'active-slot.sig') };
}

function sigMessage(s: Omit<SlotSignature, 'signature' | 'signature_algorithm'>): string {
  let m = `slot=${s.slot}\nsignature_key_id=${s.signature_key_id ?? ''}\nsigned_at=${s.signed_at}\n`;
  if (s.slot_tree_sha256 !== undefined || s.fingerprint_sha256 !== undefined) m += `slot_tree_sha256=${s.slot_tree_sha256 ?? ''}\nfingerprint_sha256=${s.fingerprint_sha256 ?? ''}\n`;
  return m;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The status table of §4.8, plus the signed binding fields. */
export function inspectMarker(updatesDir: string, policy: MarkerPolicy): IntegrityReport {
  const { marker, sig } = markerPaths(updatesDir);
  const base: IntegrityReport = {
    marker_path: marker,
    signature_path: sig,
    marker_exists: false,
    slot: null,
    signature_present: false,
    signature_verified: null,
    status: 'missing_marker',
    message: 'active slot marker does not exist; default slot bootstrap applies',
    require_signed: policy.requireSigned,
    key_loaded: Boolean(policy.key),
    key_id: policy.key?.id ?? null,
    slot_tree_sha256: null,
    fingerprint_sha256: null,
  };
  const markerText = readText(marker);
  const sigText = readText(sig);
  const r = { ...base, marker_exists: markerText !== undefined, signature_present: sigText !== undefined };
  const bad = (status: string, message: string, verified: boolean | null = false): IntegrityReport => ({ ...r, status, message, signature_verified: verified });
  if (markerText === undefined) return sigText !== undefined ? bad('orphan_signature', `active-slot signature exists without marker: ${sig}`) : r;
  const value = markerText.trim();
  if (!value) return bad('invalid_marker', `active slot marker is empty in ${marker}`);
  if (value !== 'blue' && value !== 'green') return bad('invalid_marker', `active slot marker '${value}' is invalid in ${marker}`);
  r.slot = value;
  if (sigText === undefined) return policy.requireSigned ? bad('signature_missing', `active-slot signature missing while policy requires signatures: ${sig}`) : bad('unsigned', 'active-slot marker is unsigned', null);
  let env: SlotSignature;
  try {
    env = JSON.parse(sigText) as SlotSignature;
    if (!env || typeof env !== 'object' || typeof env.slot !== 'string' || typeof env.signature !== 'string' || typeof env.signed_at !== 'string') throw new Error('missing fields');
  } catch (err) {
    return bad('signature_invalid', `active-slot signature is not valid JSON: ${(err as Error).message}`);
  }
  r.slot_tree_sha256 = typeof env.slot_tree_sha256 === 'string' ? env.slot_tree_sha256 : null;
  r.fingerprint_sha256 = typeof env.fingerprint_sha256 === 'string' ? env.fingerprint_sha256 : null;
  if (!policy.key) {
    return policy.requireSigned
      ? bad('signature_unverified', 'active-slot signature exists but no signing key is configured for verification')
      : bad('signature_present_unverified', 'active-slot signature exists but verification key is not configured', null);
  }
  const reason = verifyEnvelope(env, value, policy.key);
  return reason ? bad('signature_invalid', reason) : { ...r, status: 'valid', message: 'active-slot marker signature verified', signature_verified: true };
}

function verifyEnvelope(env: SlotSignature, slot: string, key: SigningKey): string | undefined {
  if (env.slot.trim() !== slot) return `active-slot signature slot mismatch (marker '${slot}', signature '${env.slot.trim()}')`;
  if (String(env.signature_algorithm ?? '').trim() !== 'hmac-sha256') return `unsupported active-slot signature algorithm '${String(env.signature_algorithm ?? '')}'`;
  const s = env.signature.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(s)) return 'artifact checksum must be a 64-character SHA-256 hex string';
  const id = typeof env.signature_key_id === 'string' ? env.signature_key_id.trim() : '';
  if (!id) return `active-slot signature key id is missing (expected '${key.id}')`;
  if (id.toLowerCase() !== key.id.toLowerCase()) return `active-slot signature key id mismatch (expected '${key.id}', got '${id}')`;
  const expected = hmacHex(key.secret, sigMessage({ slot, signature_key_id: env.signature_key_id, signed_at: env.signed_at, slot_tree_sha256: env.slot_tree_sha256, fingerprint_sha256: env.fingerprint_sha256 }));
  return sameHex(expected, s) ? undefined : 'active-slot signature mismatch';
}

/** §4.8 enforcement for stage/apply: throws `active-slot integrity check failed for <op>: …`. */
export function enforceMarker(report: IntegrityReport, op: string): void {
  const fail = (): never => {
    throw new EvolutionError(`active-slot integrity check failed for ${op}: ${report.message}`);
  };
  if (!report.slot) {
    if (report.marker_exists || report.signature_present) fail();
    return;
  }
  if (report.require_signed) {
    if (!report.signature_present || report.signature_verified !== true) fail();
  } else if (report.signature_present && report.signature_verified === false) fail();
}

/**
 * Points the marker at `slot` (or removes it: back to the installed build). The sidecar is
 * written first: a crash between the two renames leaves a sidecar that does not match the
 * marker, which the launcher refuses (it runs the installed build) until apply resumes.
 */
export function writeMarker(updatesDir: string, slot: Slot | null, policy: MarkerPolicy, binding: { slot_tree_sha256: string; fingerprint_sha256: string } | undefined, afterSidecar: () => void = () => {}): void {
  const { marker, sig } = markerPaths(updatesDir);
  if (slot === null) {
    for (const p of [marker, sig]) {
      try {
        unlinkSync(p);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return;
  }
  if (slot !== 'blue' && slot !== 'green') throw new EvolutionError("active slot value must be 'blue' or 'green'");
  if (policy.requireSigned && !policy.key) throw new EvolutionError('active-slot signing policy requires RUSTY_PINCH_EVOLUTION_ACTIVE_SLOT_SIGNING_KEY');
  if (policy.key) {
    const body = { slot, signature_key_id: policy.key.id, signed_at: nowStamp(), ...(binding ?? {}) };
    const env: SlotSignature = { slot, signature: hmacHex(policy.key.secret, sigMessage(body)), signature_algorithm: 'hmac-sha256', signature_key_id: policy.key.id, signed_at: body.signed_at, ...(binding ?? {}) };
    writeFileAtomic(sig, JSON.stringify(env, null, 2) + '\n');
    afterSidecar();
  } else {
    try {
      unlinkSync(sig);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  writeFileAtomic(marker, `${slot}\n`);
}
