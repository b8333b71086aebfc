// `evolution stage-update`: verify the release package (hash, SHA256SUMS pin and signature,
// version gate), unpack it safely into the passive slot, list and hash the slot, and write the
// (signed) staged manifest and an audit record. Reference §4.4-4.7.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EvolutionError } from '../errors.js';
import { nowStamp, sha256File, sha256Hex, writeFileAtomic } from '../fs-util.js';
import { normalizeSha256, resolveFromSums, type SumsProvenance } from './checksums.js';
import { auditUpdate, fingerprintPath, slotDir, treePath, type UpdateContext } from './context.js';
import { enforceMarker, inspectMarker } from './marker.js';
import { IN_PROGRESS, readManifest, signManifest, writeManifest, type StagedManifest } from './manifest.js';
import { listTree, treeText } from './tree.js';
import { unpackRelease } from './unpack.js';
import { assertUpgrade, parseVersion } from './version.js';

export interface StageInput {
  artifact?: string;
  currentBinary?: string;
  currentVersion?: string;
  artifactVersion?: string;
  artifactSha256?: string;
  sumsFile?: string;
  sumsSignatureFile?: string;
  sumsEntry?: string;
}

export interface StagePlan {
  current_binary: string;
  artifact_binary: string;
  updates_root: string;
  active_slot: string;
  passive_slot: string;
  passive_binary_path: string;
  manifest_path: string;
  rollback_binary: string;
  artifact_version: string;
  current_version: string;
}

const blank = (v: string | undefined): string | undefined => (v?.trim() ? v.trim() : undefined);

export async function stageUpdate(ctx: UpdateContext, raw: StageInput): Promise<{ status: 'staged'; plan: StagePlan }> {
  const s = ctx.settings;
  const artifact = blank(raw.artifact);
  const explicitSha = blank(raw.artifactSha256);
  const sumsFile = blank(raw.sumsFile);
  const sigFile = blank(raw.sumsSignatureFile);
  const curVer = blank(raw.currentVersion);
  const artVer = blank(raw.artifactVersion);
  if (!artifact) throw new EvolutionError('artifact path is empty');
  if (explicitSha && sumsFile) throw new EvolutionError('provide either --artifact-sha256 or --artifact-sha256-sums-file, not both');
  if (sigFile && !sumsFile) throw new EvolutionError('--artifact-sha256-sums-signature-file requires --artifact-sha256-sums-file');
  if (!existsSync(artifact)) throw new EvolutionError(`artifact binary does not exist: ${artifact}`);
  let expected = explicitSha ? normalizeSha256(explicitSha) : undefined;
  let provenance: SumsProvenance | undefined;
  if (sumsFile) {
    const r = resolveFromSums({ artifactPath: artifact, sumsPath: sumsFile, entry: raw.sumsEntry, signaturePath: sigFile, trustedSumsSha256: s.trustedSha256SumsSha256, publicKey: s.trustedSha256SumsEd25519PublicKey, requireSignature: s.requireSha256SumsSignature });
    expected = r.sha256;
    provenance = r.provenance;
  }
  if (s.requireStageArtifactSha256 && !expected) throw new EvolutionError('evolution stage-update is blocked by policy. Re-run with --artifact-sha256 or set RUSTY_PINCH_EVOLUTION_REQUIRE_STAGE_ARTIFACT_SHA256=false');

  // Plan (§4.4): the marker's slot is active (blue when there is none), the other is passive.
  const integrity = inspectMarker(ctx.updates, ctx.marker);
  enforceMarker(integrity, 'stage-update');
  const active = integrity.slot ?? 'blue';
  const passive = active === 'blue' ? 'green' : 'blue';
  const currentBinary = blank(raw.currentBinary) ?? ctx.currentBinary;
  const currentVersion = parseVersion(curVer ?? ctx.runningVersion);

  const lock = ctx.lock.acquire('stage-update');
  try {
    const existing = readManifest(ctx.manifestPath);
    if (existing && (IN_PROGRESS as readonly string[]).includes(existing.status)) {
      throw new EvolutionError(`cannot stage while an apply operation is in progress (manifest status '${existing.status}'); re-run evolution apply-staged-update first`);
    }
    const actual = await sha256File(artifact);
    if (expected && expected !== actual) throw new EvolutionError(`artifact binary checksum mismatch (expected ${expected}, got ${actual})`);

    // The passive slot is replaced: its old listing and fingerprint go first, so no launcher can
    // trust a half-written slot.
    const dir = slotDir(ctx, passive);
    rmSync(fingerprintPath(ctx, passive), { force: true });
    rmSync(treePath(ctx, passive), { force: true });
    let artifactVersion = '';
    await unpackRelease(artifact, dir, s.maxUnpackedBytes, (pkgVersion) => {
      artifactVersion = parseVersion(pkgVersion);
      if (artVer && parseVersion(artVer) !== artifactVersion) throw new EvolutionError(`--artifact-version '${artVer}' does not match the artifact's package.json version '${pkgVersion}'`);
      assertUpgrade(currentVersion, artifactVersion);
      if (!existsSync(join(dir + '.incoming', 'dist', 'cli.js'))) throw new EvolutionError('artifact refused: it has no dist/cli.js');
    });
    const listing = treeText(listTree(dir));
    writeFileAtomic(treePath(ctx, passive), listing);

    const m: StagedManifest = {
      timestamp: nowStamp(),
      status: 'staged',
      active_slot: active,
      passive_slot: passive,
      apply_started_at: null,
      apply_from_slot: null,
      apply_to_slot: null,
      apply_resume_count: null,
      last_recovery_note: null,
      last_observed_active_slot: null,
      current_binary_version: currentVersion,
      artifact_binary_version: artifactVersion,
      checksum_manifest_path: provenance?.checksum_manifest_path ?? null,
      checksum_manifest_sha256: provenance?.checksum_manifest_sha256 ?? null,
      checksum_manifest_signature_path: provenance?.checksum_manifest_signature_path ?? null,
      checksum_manifest_signature_verified: provenance ? provenance.checksum_manifest_signature_verified : null,
      artifact_binary_path: artifact,
      artifact_binary_sha256: actual,
      artifact_checksum_verified: Boolean(expected),
      passive_binary_path: join(dir, 'dist', 'cli.js'),
      passive_binary_sha256: sha256Hex(listing),
      manifest_signature: null,
      manifest_signature_key_id: null,
      manifest_signature_algorithm: null,
      rollback_binary: currentBinary,
      healthcheck_stdout: null,
      healthcheck_stderr: null,
      healthcheck_exit_code: null,
      healthcheck_timed_out: null,
      healthcheck_timeout_secs: null,
      error: null,
    };
    if (s.manifestKey) signManifest(m, s.manifestKey);
    writeManifest(ctx.manifestPath, m);
    auditUpdate(ctx, 'stage', m);
    return {
      status: 'staged',
      plan: { current_binary: currentBinary, artifact_binary: artifact, updates_root: ctx.updates, active_slot: active, passive_slot: passive, passive_binary_path: m.passive_binary_path, manifest_path: ctx.manifestPath, rollback_binary: currentBinary, artifact_version: artifactVersion, current_version: currentVersion },
    };
  } finally {
    lock.release();
  }
}
