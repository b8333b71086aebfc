// The apply gates (reference §4.12 step 7), run on a fresh apply AND on every resume: a kill -9
// between checkpoints must not let a changed slot, manifest or checksum file through.
import { existsSync, readFileSync } from 'node:fs';
import { EvolutionError } from '../errors.js';
import { sha256FileSync, sha256Hex } from '../fs-util.js';
import { verifySumsSignature } from './checksums.js';
import { slotDir, treePath, type UpdateContext } from './context.js';
import { verifyManifestSignature, type StagedManifest } from './manifest.js';
import { verifyTree } from './tree.js';
import { assertUpgrade } from './version.js';

export class GateError extends EvolutionError {
  constructor(
    readonly status: string,
    message: string,
  ) {
    super(message, { code: 'evolution_gate' });
  }
}

function gate(status: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    throw new GateError(status, (err as Error).message);
  }
}

export function ageSecs(timestamp: string): number | null {
  const t = Date.parse(timestamp);
  if (!Number.isFinite(t)) return null;
  return Math.max(0, Math.floor((Date.now() - t) / 1000));
}

export function runGates(ctx: UpdateContext, m: StagedManifest): void {
  const s = ctx.settings;
  if (s.maxStagedManifestAgeSecs > 0) {
    gate('stale_failed', () => {
      const age = ageSecs(m.timestamp);
      if (age === null) throw new Error(`staged manifest timestamp '${m.timestamp}' is invalid; cannot enforce freshness threshold ${s.maxStagedManifestAgeSecs}s`);
      if (age >= s.maxStagedManifestAgeSecs) throw new Error(`staged manifest is stale (age ${age}s >= threshold ${s.maxStagedManifestAgeSecs}s); re-stage artifact before apply`);
    });
  }
  if (s.requireVerifiedStageArtifactSha256) {
    gate('provenance_failed', () => {
      if (m.artifact_checksum_verified !== true) throw new Error('staged manifest is not marked as artifact-checksum-verified; re-stage update with --artifact-sha256');
      if (!m.artifact_binary_path) throw new Error('staged manifest missing artifact binary path; re-stage update');
      if (!m.artifact_binary_sha256) throw new Error('staged manifest missing artifact binary checksum; re-stage update');
      if (existsSync(m.artifact_binary_path)) {
        const got = sha256FileSync(m.artifact_binary_path);
        if (got !== m.artifact_binary_sha256) throw new Error(`staged artifact binary checksum mismatch (expected ${m.artifact_binary_sha256}, got ${got})`);
      }
    });
  }
  if (s.requireSignedChecksumManifestProvenance) {
    gate('checksum_provenance_failed', () => {
      if (m.checksum_manifest_signature_verified !== true) throw new Error('staged manifest is not marked as checksum-manifest-signature-verified; re-stage update with --artifact-sha256-sums-signature-file');
      if (!m.checksum_manifest_path) throw new Error('staged manifest missing checksum manifest path; re-stage update');
      if (!m.checksum_manifest_sha256) throw new Error('staged manifest missing checksum manifest checksum; re-stage update');
      const pin = s.trustedSha256SumsSha256;
      if (pin && pin !== m.checksum_manifest_sha256) throw new Error(`staged checksum manifest SHA-256 does not match trusted pin (expected ${pin}, got ${m.checksum_manifest_sha256})`);
      if (!existsSync(m.checksum_manifest_path)) throw new Error(`recorded checksum manifest does not exist at apply time: ${m.checksum_manifest_path}`);
      const bytes = readFileSync(m.checksum_manifest_path);
      const got = sha256Hex(bytes);
      if (got !== m.checksum_manifest_sha256) throw new Error(`recorded checksum manifest SHA-256 mismatch at apply time (expected ${m.checksum_manifest_sha256}, got ${got})`);
      if (!m.checksum_manifest_signature_path) throw new Error('staged manifest missing checksum manifest signature path; re-stage update');
      verifySumsSignature(bytes, m.checksum_manifest_signature_path, s.trustedSha256SumsEd25519PublicKey);
    });
  }
  gate('version_failed', () => {
    if (s.requireNonRollbackVersion) {
      if (!m.current_binary_version) throw new Error('staged manifest missing current binary version; re-stage update with --current-version');
      if (!m.artifact_binary_version) throw new Error('staged manifest missing artifact binary version; re-stage update with --artifact-version');
      assertUpgrade(m.current_binary_version, m.artifact_binary_version);
    }
    // Always: never activate something older than (or equal to) what runs now.
    if (m.artifact_binary_version) assertUpgrade(ctx.runningVersion, m.artifact_binary_version);
  });
  gate('signature_failed', () => verifyManifestSignature(m, s.manifestKeyring, s.requireManifestSignature));
  gate('integrity_failed', () => {
    const dir = slotDir(ctx, m.passive_slot);
    if (!existsSync(m.passive_binary_path)) throw new Error(`staged passive binary does not exist: ${m.passive_binary_path}`);
    if (!m.passive_binary_sha256) throw new Error('staged manifest missing passive binary checksum; re-stage update');
    let listing: string;
    try {
      listing = readFileSync(treePath(ctx, m.passive_slot), 'utf8');
    } catch {
      throw new Error(`staged slot listing is missing: ${treePath(ctx, m.passive_slot)}; re-stage update`);
    }
    const got = sha256Hex(listing);
    if (got !== m.passive_binary_sha256) throw new Error(`staged passive binary checksum mismatch (expected ${m.passive_binary_sha256}, got ${got})`);
    try {
      verifyTree(dir, listing);
    } catch (err) {
      throw new Error(`staged passive binary checksum mismatch: ${(err as Error).message}`);
    }
  });
}
