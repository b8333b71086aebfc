// Everything one update operation needs: the policy, the paths under `${WORKSPACE}/updates`, the
// lock, the audit chain and the failure circuit.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AuditChain } from '../audit-chain.js';
import { AUDIT_APPEND_OPERATION, EvolutionLock } from '../lock.js';
import { emitEvent } from '../../observe/index.js';
import { evolutionSettings, type Env, type EvolutionSettings } from '../settings.js';
import { nowStamp } from '../fs-util.js';
import { FailureCircuit } from './circuit.js';
import type { MarkerPolicy } from './marker.js';
import type { StagedManifest } from './manifest.js';

export interface UpdateContext {
  settings: EvolutionSettings;
  updates: string;
  manifestPath: string;
  lock: EvolutionLock;
  audit: AuditChain;
  circuit: FailureCircuit;
  marker: MarkerPolicy;
  /** The version of the code running this command. */
  runningVersion: string;
  /** The installed (or slot) dist/cli.js running this command. */
  currentBinary: string;
}

export interface ContextInput {
  env: Env;
  workspace: string;
  runningVersion: string;
  currentBinary: string;
}

export function openUpdateContext(input: ContextInput): UpdateContext {
  const s = evolutionSettings(input.env, input.workspace);
  const updates = join(input.workspace, 'updates');
  for (const d of [updates, join(updates, 'blue'), join(updates, 'green')]) mkdirSync(d, { recursive: true });
  return {
    settings: s,
    updates,
    manifestPath: join(updates, 'blue-green-staged.json'),
    lock: new EvolutionLock(join(updates, 'evolution.lock'), { staleAfterSecs: s.lockStaleAfterSecs, autoRecoverStale: s.autoRecoverStaleLock }),
    audit: new AuditChain({ path: join(updates, 'evolution-audit.jsonl'), key: s.manifestKey, keyring: s.manifestKeyring }),
    circuit: new FailureCircuit(join(updates, 'apply-failure-circuit.json'), s.maxConsecutiveApplyFailures),
    marker: { key: s.activeSlotKey, requireSigned: s.requireSignedActiveSlot },
    runningVersion: input.runningVersion,
    currentBinary: input.currentBinary,
  };
}

export interface AuditOutcome {
  rollback_performed?: boolean | null;
  healthcheck_ok?: boolean | null;
  healthcheck_timed_out?: boolean | null;
  error?: string | null;
}

/** One audit record in the original's field order (every field is covered by the keyed hash). */
export function auditUpdate(ctx: UpdateContext, event: 'stage' | 'apply' | 'serve_rollback' | 'serve_confirmed', m: StagedManifest | undefined, outcome: AuditOutcome = {}): void {
  ctx.audit.append({
    timestamp: nowStamp(),
    event,
    status: m?.status ?? null,
    manifest_path: ctx.manifestPath,
    active_slot: m?.active_slot ?? null,
    passive_slot: m?.passive_slot ?? null,
    current_binary_version: m?.current_binary_version ?? null,
    artifact_binary_version: m?.artifact_binary_version ?? null,
    checksum_manifest_sha256: m?.checksum_manifest_sha256 ?? null,
    checksum_manifest_signature_verified: m?.checksum_manifest_signature_verified ?? null,
    artifact_binary_sha256: m?.artifact_binary_sha256 ?? null,
    artifact_checksum_verified: m?.artifact_checksum_verified ?? null,
    manifest_signature_key_id: m?.manifest_signature_key_id ?? null,
    apply_started_at: m?.apply_started_at ?? null,
    apply_from_slot: m?.apply_from_slot ?? null,
    apply_to_slot: m?.apply_to_slot ?? null,
    apply_resume_count: m?.apply_resume_count ?? null,
    last_recovery_note: m?.last_recovery_note ?? null,
    last_observed_active_slot: m?.last_observed_active_slot ?? null,
    rollback_performed: outcome.rollback_performed ?? null,
    healthcheck_ok: outcome.healthcheck_ok ?? null,
    healthcheck_timed_out: outcome.healthcheck_timed_out ?? null,
    error: outcome.error ?? m?.error ?? null,
  });
}

/**
 * auditUpdate for code that does not hold the operation lock (serve's confirm or rollback, the
 * launcher): it takes the lock for the append, waiting out a brief hold (a skill generation's
 * append), so no skill record interleaves. When a whole update operation holds the lock the
 * record is appended anyway (with a warning) rather than lost: no skill append can run then.
 */
export function auditUpdateOutsideLock(ctx: UpdateContext, event: 'serve_rollback' | 'serve_confirmed', m: StagedManifest | undefined, outcome: AuditOutcome = {}): void {
  if (ctx.lock.holdBrieflySync(AUDIT_APPEND_OPERATION, () => auditUpdate(ctx, event, m, outcome), 2000)) return;
  emitEvent('warning', { message: `evolution lock held by an update operation; audit record '${event}' appended beside it`, component: 'evolution' });
  auditUpdate(ctx, event, m, outcome);
}

export function slotDir(ctx: UpdateContext, slot: string): string {
  return join(ctx.updates, slot);
}
export function treePath(ctx: UpdateContext, slot: string): string {
  return join(ctx.updates, `${slot}.tree.json`);
}
export function fingerprintPath(ctx: UpdateContext, slot: string): string {
  return join(ctx.updates, `${slot}.fingerprint`);
}
export function probationPath(ctx: UpdateContext): string {
  return join(ctx.updates, 'probation.json');
}
