// `evolution apply-staged-update`: the state machine staged → applying → healthcheck_pending →
// activated | rolled_back (reference §4.12), with every checkpoint written before the step it
// guards, so a kill -9 anywhere resumes on the next run with every gate checked again.
import { EvolutionError } from '../errors.js';
import { nowStamp } from '../fs-util.js';
import { activateSlot, rollBack, writeProbation } from './activate.js';
import { auditUpdate, type AuditOutcome, type UpdateContext } from './context.js';
import { GateError, runGates } from './gates.js';
import { runHealthCheck, type HealthResult } from './healthcheck.js';
import { enforceMarker, inspectMarker, type Slot } from './marker.js';
import { IN_PROGRESS, TERMINAL, requireManifest, writeManifest, type StagedManifest } from './manifest.js';

export interface ApplyInput {
  healthcheckArgs: string[];
  timeoutSecs: number;
  /** The installed launcher (bin/rusty-pinch): the check then runs the slot the way operators will. */
  launcher?: string;
  env: NodeJS.ProcessEnv;
}

export interface ApplyReport {
  status: string;
  from_slot: string;
  to_slot: string;
  rollback_performed: boolean;
  healthcheck_ok: boolean;
  healthcheck_timed_out: boolean;
  healthcheck_timeout_secs: number;
  healthcheck_exit_code: number | null;
  healthcheck_stdout: string;
  healthcheck_stderr: string;
  manifest_path: string;
  /** What the launcher runs now: a slot or `installed`. */
  running: string;
}

const inProgress = (s: string): boolean => (IN_PROGRESS as readonly string[]).includes(s);

function reportFrom(ctx: UpdateContext, m: StagedManifest, running: string): ApplyReport {
  return {
    status: m.status,
    from_slot: m.apply_from_slot ?? m.active_slot,
    to_slot: m.apply_to_slot ?? m.passive_slot,
    rollback_performed: m.status === 'rolled_back',
    healthcheck_ok: m.status === 'activated',
    healthcheck_timed_out: m.healthcheck_timed_out ?? false,
    healthcheck_timeout_secs: m.healthcheck_timeout_secs ?? 1,
    healthcheck_exit_code: m.healthcheck_exit_code,
    healthcheck_stdout: m.healthcheck_stdout ?? '',
    healthcheck_stderr: m.healthcheck_stderr ?? '',
    manifest_path: ctx.manifestPath,
    running,
  };
}

function save(ctx: UpdateContext, m: StagedManifest, outcome?: AuditOutcome): void {
  writeManifest(ctx.manifestPath, m);
  auditUpdate(ctx, 'apply', m, outcome);
}

/** Optional hook for tests: called after each checkpoint is durable. */
export type CheckpointHook = (status: string) => void;

export async function applyStagedUpdate(ctx: UpdateContext, input: ApplyInput, onCheckpoint: CheckpointHook = () => {}): Promise<{ status: string; report: ApplyReport }> {
  const timeout = Math.max(1, input.timeoutSecs);
  const lock = ctx.lock.acquire('apply-staged-update');
  try {
    ctx.circuit.assertClosed();
    const m = requireManifest(ctx.manifestPath);
    const marker0 = inspectMarker(ctx.updates, ctx.marker);
    if ((TERMINAL as readonly string[]).includes(m.status)) return { status: m.status, report: reportFrom(ctx, m, marker0.slot ?? 'installed') };
    if (m.status !== 'staged' && !inProgress(m.status)) throw new EvolutionError(`no staged update available (manifest status '${m.status}')`, { hint: 're-stage the artifact with evolution stage-update' });
    const resumedFrom = inProgress(m.status) ? m.status : null;
    if (resumedFrom) {
      m.apply_resume_count = (m.apply_resume_count ?? 0) + 1;
      m.last_recovery_note = `resumed apply invocation from '${resumedFrom}'`;
    }
    const previous = m.apply_from_slot ?? m.active_slot;
    const next = (m.apply_to_slot ?? m.passive_slot) as Slot;

    try {
      runGates(ctx, m);
    } catch (err) {
      if (!(err instanceof GateError)) throw err;
      // A resumed apply may already have switched the marker: switch it back first.
      if (resumedFrom && inspectMarker(ctx.updates, ctx.marker).slot === next) rollBack(ctx, previous, next);
      m.status = err.status;
      m.error = err.message;
      if (err.status !== 'stale_failed') m.timestamp = nowStamp();
      save(ctx, m, { error: err.message });
      ctx.circuit.failure(err.status, err.message);
      throw new EvolutionError(err.message);
    }

    const stateFailed = (message: string): never => {
      m.status = 'state_failed';
      m.error = message;
      m.last_recovery_note = message;
      m.timestamp = nowStamp();
      save(ctx, m, { error: message });
      ctx.circuit.failure('state_failed', message);
      throw new EvolutionError(message, { hint: 'inspect evolution recovery-status and evolution active-slot-status' });
    };

    if (m.status === 'staged') {
      Object.assign(m, { status: 'applying', timestamp: nowStamp(), apply_from_slot: previous, apply_to_slot: next, apply_resume_count: 0, last_recovery_note: null, last_observed_active_slot: null, error: null });
      Object.assign(m, { apply_started_at: m.timestamp, healthcheck_stdout: null, healthcheck_stderr: null, healthcheck_exit_code: null, healthcheck_timed_out: null, healthcheck_timeout_secs: null });
      save(ctx, m);
      onCheckpoint('applying');
    }
    m.apply_from_slot = previous;
    m.apply_to_slot = next;
    m.apply_started_at ??= nowStamp();

    const integrity = inspectMarker(ctx.updates, ctx.marker);
    if (m.status === 'applying') {
      // A sidecar for `next` without its marker is our own half-written switch: not a conflict.
      const ours = (integrity.status === 'signature_invalid' && integrity.slot === previous) || integrity.status === 'orphan_signature';
      if (!ours) enforceMarker(integrity, 'apply-staged-update');
      const current = integrity.slot ?? previous;
      m.last_observed_active_slot = integrity.slot;
      if (current !== next && current !== previous) stateFailed(`active slot marker '${current}' conflicts with apply state (expected '${previous}' or '${next}')`);
      activateSlot(ctx, next, m.artifact_binary_version ?? '', () => onCheckpoint('sidecar_written'));
      if (resumedFrom) m.last_recovery_note = 'resumed apply by restoring target active slot before healthcheck';
      Object.assign(m, { status: 'healthcheck_pending', timestamp: nowStamp(), error: null });
      save(ctx, m);
      onCheckpoint('healthcheck_pending');
    } else {
      enforceMarker(integrity, 'apply-staged-update');
      const current = integrity.slot ?? previous;
      m.last_observed_active_slot = integrity.slot;
      if (current === previous && current !== next) {
        const note = 'detected interrupted apply with rollback slot already active; preserving rollback state';
        Object.assign(m, { status: 'rolled_back', timestamp: nowStamp(), error: note, last_recovery_note: note, healthcheck_stdout: '', healthcheck_stderr: 'interrupted apply resumed after rollback', healthcheck_exit_code: null, healthcheck_timed_out: false, healthcheck_timeout_secs: timeout });
        const running = rollBack(ctx, previous, next);
        save(ctx, m, { rollback_performed: true, healthcheck_ok: false, healthcheck_timed_out: false, error: note });
        ctx.circuit.failure('rolled_back', note);
        return { status: m.status, report: { ...reportFrom(ctx, m, running), from_slot: previous, to_slot: next } };
      }
      if (current !== next) stateFailed(`active slot marker '${current}' conflicts with pending healthcheck state (expected '${next}')`);
      // The gates re-verified the slot: re-take its fingerprint in case the crash came mid-switch.
      activateSlot(ctx, next, m.artifact_binary_version ?? '');
      m.last_recovery_note = 'resumed apply and continued from pending healthcheck checkpoint';
    }

    const cmd = input.launcher ? [input.launcher, ...input.healthcheckArgs] : [m.passive_binary_path, ...input.healthcheckArgs];
    const hc: HealthResult = await runHealthCheck(process.execPath, cmd, timeout, { ...input.env, RUSTY_PINCH_LAUNCH_EXPECT_SLOT: next, RUSTY_PINCH_EVOLUTION_HEALTHCHECK: '1' });
    let running: string = next;
    if (!hc.ok) running = rollBack(ctx, previous, next);
    onCheckpoint('healthcheck_done');
    const status = hc.ok ? 'activated' : 'rolled_back';
    const prevStatus = resumedFrom;
    Object.assign(m, {
      status,
      timestamp: nowStamp(),
      healthcheck_stdout: hc.stdout,
      healthcheck_stderr: hc.stderr,
      healthcheck_exit_code: hc.exitCode,
      healthcheck_timed_out: hc.timedOut,
      healthcheck_timeout_secs: timeout,
      apply_started_at: null,
      apply_from_slot: null,
      apply_to_slot: null,
      last_recovery_note: prevStatus ? `resumed from '${prevStatus}' and completed apply with status '${status}'` : hc.ok ? m.last_recovery_note : 'apply healthcheck failed and rollback was performed',
      error: hc.ok ? null : 'post-stage health check failed; rollback performed',
    });
    if (hc.ok) writeProbation(ctx, { slot: next, version: m.artifact_binary_version ?? '', previous_slot: previous, activated_at: m.timestamp, serve_starts: 0, confirmed_at: null });
    save(ctx, m, { rollback_performed: !hc.ok, healthcheck_ok: hc.ok, healthcheck_timed_out: hc.timedOut, error: m.error });
    if (hc.ok) ctx.circuit.success();
    else ctx.circuit.failure('rolled_back', m.error);
    return { status, report: { ...reportFrom(ctx, m, running), from_slot: previous, to_slot: next } };
  } finally {
    lock.release();
  }
}
