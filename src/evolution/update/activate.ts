// Pointing the launcher at a slot (after a full verification) or back at the previous slot /
// the installed build, and the probation record a freshly activated serve must clear.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { nowStamp, sha256Hex, writeFileAtomic, isNotFound } from '../fs-util.js';
import { fingerprintPath, probationPath, slotDir, treePath, type UpdateContext } from './context.js';
import { writeMarker, type Slot } from './marker.js';
import { checkFingerprint, fingerprintText, parseFingerprintHeader, type TreeEntry } from './tree.js';

/** Writes the slot's fingerprint (its content was just fully verified) and switches the marker. */
export function activateSlot(ctx: UpdateContext, slot: Slot, version: string, afterSidecar?: () => void): void {
  const listing = readFileSync(treePath(ctx, slot), 'utf8');
  const entries = listing
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TreeEntry);
  const treeSha = sha256Hex(listing);
  const fp = fingerprintText(slotDir(ctx, slot), entries, { slot, tree_sha256: treeSha, version });
  writeFileAtomic(fingerprintPath(ctx, slot), fp);
  writeMarker(ctx.updates, slot, ctx.marker, { slot_tree_sha256: treeSha, fingerprint_sha256: sha256Hex(fp) }, afterSidecar);
}

/** True when `slot` was activated before and is unchanged since (so it can take over again). */
export function slotUsable(ctx: UpdateContext, slot: string): boolean {
  let fp: string;
  try {
    fp = readFileSync(fingerprintPath(ctx, slot), 'utf8');
  } catch {
    return false;
  }
  const h = parseFingerprintHeader(fp);
  if (!h || h.slot !== slot) return false;
  try {
    if (sha256Hex(readFileSync(treePath(ctx, slot), 'utf8')) !== h.tree_sha256) return false;
  } catch {
    return false;
  }
  return checkFingerprint(slotDir(ctx, slot), fp) === undefined;
}

/**
 * Rolls back to `previous` when that slot is intact, else to the installed build (no marker):
 * on the first rollout there is no previous slot, and the installed build is the known-good one.
 * Returns what now runs.
 */
export function rollBack(ctx: UpdateContext, previous: string, failed: string): string {
  clearProbation(ctx);
  if (previous !== failed && (previous === 'blue' || previous === 'green') && slotUsable(ctx, previous)) {
    const fp = readFileSync(fingerprintPath(ctx, previous), 'utf8');
    writeMarker(ctx.updates, previous, ctx.marker, { slot_tree_sha256: parseFingerprintHeader(fp)!.tree_sha256, fingerprint_sha256: sha256Hex(fp) });
    return previous;
  }
  writeMarker(ctx.updates, null, ctx.marker, undefined);
  return 'installed';
}

export interface Probation {
  slot: string;
  version: string;
  previous_slot: string;
  activated_at: string;
  /** Serve starts on this slot so far; the second unconfirmed start rolls back. */
  serve_starts: number;
  confirmed_at: string | null;
}

export function writeProbation(ctx: UpdateContext, p: Probation): void {
  writeFileAtomic(probationPath(ctx), JSON.stringify(p, null, 2) + '\n');
}

export function readProbation(ctx: UpdateContext): Probation | undefined {
  try {
    const p = JSON.parse(readFileSync(probationPath(ctx), 'utf8')) as Probation;
    return p && typeof p.slot === 'string' ? p : undefined;
  } catch (err) {
    if (!isNotFound(err)) return undefined;
    return undefined;
  }
}

export function clearProbation(ctx: UpdateContext): void {
  rmSync(probationPath(ctx), { force: true });
}

export function confirmProbation(ctx: UpdateContext): Probation | undefined {
  const p = readProbation(ctx);
  if (!p || p.confirmed_at) return undefined;
  const done = { ...p, confirmed_at: nowStamp() };
  writeProbation(ctx, done);
  return done;
}

export function hasProbationFile(ctx: UpdateContext): boolean {
  return existsSync(probationPath(ctx));
}
