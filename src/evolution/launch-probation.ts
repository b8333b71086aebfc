// The launcher's probation step for a `serve` start (dist/launch-probation.js, loaded by
// dist/launch-verify.js only for `serve`, so short commands never load the lock, audit and circuit
// code). A `serve` start on a slot still on probation counts the start; a second start that never
// reached readiness rolls back before anything of the slot runs. Returns the rollback's error
// text when it rolled back (the caller then decides again), else undefined.
import { rollBack, readProbation, writeProbation } from './update/activate.js';
import { auditUpdateOutsideLock, openUpdateContext } from './update/context.js';
import { readManifest } from './update/manifest.js';

export function serveProbation(installedCli: string, merged: Record<string, string | undefined>, workspace: string, slot: string, version: string | undefined): string | undefined {
  const ctx = openUpdateContext({ env: merged, workspace, runningVersion: version ?? '0.0.0', currentBinary: installedCli });
  const p = readProbation(ctx);
  if (!p || p.slot !== slot || p.confirmed_at) return undefined;
  if (p.serve_starts >= 1) {
    const running = rollBack(ctx, p.previous_slot, slot);
    const m = readManifest(ctx.manifestPath);
    const error = `serve on slot ${slot} (version ${p.version}) did not become ready after activation; rolled back to ${running}`;
    auditUpdateOutsideLock(ctx, 'serve_rollback', m, { rollback_performed: true, healthcheck_ok: false, error });
    ctx.circuit.failure('rolled_back', error);
    return error;
  }
  writeProbation(ctx, { ...p, serve_starts: p.serve_starts + 1 });
  return undefined;
}
