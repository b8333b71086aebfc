// Artifact hash sources: an explicit --artifact-sha256, or an entry of a SHA256SUMS file whose
// own hash may be pinned and whose Ed25519 detached signature may be required (reference §4.5-4.6).
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createPublicKey, verify } from 'node:crypto';
import { EvolutionError } from '../errors.js';
import { sha256Hex } from '../fs-util.js';

export interface SumsProvenance {
  checksum_manifest_path: string;
  checksum_manifest_sha256: string;
  checksum_manifest_signature_path: string | null;
  checksum_manifest_signature_verified: boolean;
}

/** Trim + lowercase; must be exactly 64 hex characters. */
export function normalizeSha256(value: string): string {
  const v = value.trim().toLowerCase();
  if (v.length !== 64) throw new EvolutionError('artifact checksum must be a 64-character SHA-256 hex string');
  if (!/^[0-9a-f]{64}$/.test(v)) throw new EvolutionError('artifact checksum must contain only hex characters');
  return v;
}

/** Hex (even length, all hex) or base64 (standard / URL-safe, padded or not). */
function decodeKeyText(text: string): Buffer | undefined {
  const t = text.trim();
  if (t.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(t)) return Buffer.from(t, 'hex');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) return undefined;
  return Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

export function ed25519PublicKey(text: string | undefined): ReturnType<typeof createPublicKey> {
  if (!text) throw new EvolutionError('checksum manifest signature verification requires RUSTY_PINCH_EVOLUTION_TRUSTED_SHA256SUMS_ED25519_PUBLIC_KEY');
  const raw = decodeKeyText(text);
  if (!raw || raw.length !== 32) throw new EvolutionError('Ed25519 public key must decode to 32 bytes');
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  } catch {
    throw new EvolutionError('invalid Ed25519 public key bytes');
  }
}

/** Verifies the detached signature (raw 64 bytes, or hex/base64 text) over the exact sums bytes. */
export function verifySumsSignature(sumsBytes: Buffer, signaturePath: string, publicKeyText: string | undefined): void {
  const key = ed25519PublicKey(publicKeyText);
  if (!existsSync(signaturePath)) throw new EvolutionError(`checksum manifest signature file does not exist: ${signaturePath}`);
  const bytes = readFileSync(signaturePath);
  let sig: Buffer | undefined;
  if (bytes.length === 64) sig = bytes;
  else {
    const text = bytes.toString('utf8').trim();
    if (!text) throw new EvolutionError('checksum manifest signature file is empty');
    sig = decodeKeyText(text);
  }
  if (!sig || sig.length !== 64) throw new EvolutionError('Ed25519 signature must decode to 64 bytes');
  let ok = false;
  try {
    ok = verify(null, sumsBytes, key, sig);
  } catch {
    ok = false;
  }
  if (!ok) throw new EvolutionError('checksum manifest signature verification failed');
}

interface SumsLine {
  hash: string;
  name: string;
}

export function parseSumsLines(text: string): SumsLine[] {
  const out: SumsLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.length < 65) continue;
    let hash: string;
    let name: string;
    const two = line.indexOf('  ');
    const bin = line.indexOf(' *');
    if (two >= 0) [hash, name] = [line.slice(0, two), line.slice(two + 2)];
    else if (bin >= 0) [hash, name] = [line.slice(0, bin), line.slice(bin + 2)];
    else {
      const toks = line.split(/\s+/);
      [hash, name] = [toks[0] ?? '', toks[1] ?? ''];
    }
    out.push({ hash: hash.trim(), name: name.trim().replace(/^\*/, '').trim() });
  }
  return out;
}

export interface ResolveSumsInput {
  artifactPath: string;
  sumsPath: string;
  entry: string | undefined;
  signaturePath: string | undefined;
  trustedSumsSha256: string | undefined;
  publicKey: string | undefined;
  requireSignature: boolean;
}

/**
 * Resolves the expected artifact hash from SHA256SUMS. Unlike the original, an explicit
 * --artifact-sha256-entry is matched exactly (or after `./`), with no basename fallback, and an
 * entry name that matches more than one line is refused as ambiguous.
 */
export function resolveFromSums(input: ResolveSumsInput): { sha256: string; provenance: SumsProvenance } {
  if (!existsSync(input.artifactPath)) throw new EvolutionError(`artifact binary does not exist: ${input.artifactPath}`);
  if (!existsSync(input.sumsPath)) throw new EvolutionError(`checksum manifest does not exist: ${input.sumsPath}`);
  const bytes = readFileSync(input.sumsPath);
  const sumsSha = sha256Hex(bytes);
  if (input.trustedSumsSha256 !== undefined) {
    const pin = input.trustedSumsSha256.trim().toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(pin) || pin !== sumsSha) throw new EvolutionError(`checksum manifest SHA-256 mismatch (expected ${pin}, got ${sumsSha})`);
  }
  if (input.requireSignature && !input.signaturePath) {
    throw new EvolutionError('checksum manifest signature is required by policy. Re-run with --artifact-sha256-sums-signature-file or set RUSTY_PINCH_EVOLUTION_REQUIRE_SHA256SUMS_SIGNATURE=false');
  }
  let verified = false;
  if (input.signaturePath) {
    verifySumsSignature(bytes, input.signaturePath, input.publicKey);
    verified = true;
  }
  const lines = parseSumsLines(bytes.toString('utf8'));
  const explicit = input.entry?.trim();
  const want = explicit || basename(input.artifactPath);
  const matches = lines.filter((l) => {
    const n = l.name.replace(/^\.\//, '');
    return explicit ? n === want : n === want || basename(n) === want;
  });
  if (matches.length === 0) throw new EvolutionError(`artifact entry '${want}' not found in checksum manifest ${input.sumsPath}`);
  if (new Set(matches.map((m) => m.hash.toLowerCase())).size > 1) throw new EvolutionError(`artifact entry '${want}' is ambiguous in checksum manifest ${input.sumsPath} (${matches.length} lines with different hashes)`);
  return {
    sha256: normalizeSha256(matches[0]!.hash),
    provenance: { checksum_manifest_path: input.sumsPath, checksum_manifest_sha256: sumsSha, checksum_manifest_signature_path: input.signaturePath ?? null, checksum_manifest_signature_verified: verified },
  };
}
