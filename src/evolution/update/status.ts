// `evolution recovery-status` (reference §4.16) and the telemetry section `stats` and the
// monitor show (reference §5).
import { ageSecs } from './gates.js';
import { readProbation } from './activate.js';
import type { UpdateContext } from './context.js';
import { inspectMarker } from './marker.js';
import { readManifest } from './manifest.js';

export function recoveryStatus(ctx: UpdateContext): Record<string, unknown> {
  const m = readManifest(ctx.manifestPath);
  const integrity = inspectMarker(ctx.updates, ctx.marker);
  const circuit = ctx.circuit.report();
  const max = ctx.settings.maxStagedManifestAgeSecs;
  const circuitText = 'apply failure circuit is open; inspect evolution failure-circuit-status and reset with evolution failure-circuit-reset --confirm after remediation';
  const base = {
    manifest_path: ctx.manifestPath,
    manifest_exists: Boolean(m),
    manifest_timestamp: m?.timestamp ?? null,
    manifest_age_secs: m ? ageSecs(m.timestamp) : null,
    manifest_max_age_secs: max > 0 ? max : null,
    manifest_expired: false,
    manifest_status: m?.status ?? null,
    apply_started_at: m?.apply_started_at ?? null,
    apply_from_slot: m?.apply_from_slot ?? null,
    apply_to_slot: m?.apply_to_slot ?? null,
    apply_resume_count: m?.apply_resume_count ?? 0,
    last_recovery_note: m?.last_recovery_note ?? null,
    last_observed_active_slot: m?.last_observed_active_slot ?? null,
    active_slot_marker: integrity.slot,
    active_slot_integrity_status: integrity.status,
    active_slot_integrity_message: integrity.message,
    active_slot_signature_present: integrity.signature_present,
    active_slot_signature_verified: integrity.signature_verified,
    apply_failure_threshold: circuit.threshold,
    apply_failure_consecutive: circuit.consecutive_failures,
    apply_failure_circuit_open: circuit.circuit_open,
    drift_detected: false,
    probation: readProbation(ctx) ?? null,
    recommendation: null as string | null,
  };
  if (!m) return { ...base, recommendation: circuit.circuit_open ? circuitText : 'no staged update manifest found' };
  // Only a pending manifest can be stale (the original also flagged old activated ones).
  const pending = m.status === 'staged' || m.status === 'applying' || m.status === 'healthcheck_pending';
  const expired = pending && max > 0 && base.manifest_age_secs !== null && base.manifest_age_secs >= max;
  const from = m.apply_from_slot ?? m.active_slot;
  const to = m.apply_to_slot ?? m.passive_slot;
  const slot = integrity.slot;
  let drift = false;
  if (slot) {
    if (m.status === 'activated') drift = slot !== to;
    else if (m.status === 'rolled_back') drift = slot !== from;
    else if (m.status === 'applying' || m.status === 'healthcheck_pending') drift = slot !== from && slot !== to;
  }
  const byStatus: Record<string, string> = {
    staged: 'staged update is ready; run evolution apply-staged-update --confirm',
    applying: 'apply appears interrupted mid-flight; re-run evolution apply-staged-update --confirm to resume',
    healthcheck_pending: 'apply appears interrupted mid-flight; re-run evolution apply-staged-update --confirm to resume',
    activated: 'staged update already activated; no recovery action needed',
    rolled_back: 'staged update rolled back; inspect healthcheck output and re-stage a new artifact',
    stale_failed: 'staged manifest failed freshness checks; re-stage artifact before apply',
    state_failed: 'state validation failed; inspect lock/active-slot state and consider evolution force-unlock --confirm after review',
  };
  const recommendation = circuit.circuit_open
    ? circuitText
    : expired
      ? `staged update is stale (age ${base.manifest_age_secs}s >= threshold ${max}s); re-stage artifact before apply`
      : drift
        ? `active-slot marker '${slot}' conflicts with staged apply state '${m.status}'; inspect and re-run apply or rollback with operator approval`
        : (byStatus[m.status] ?? null);
  return { ...base, manifest_expired: expired, drift_detected: drift, recommendation };
}

/** The integrity and circuit fields of `telemetry.evolution`. */
export function evolutionTelemetryFields(ctx: UpdateContext): Record<string, unknown> {
  const i = inspectMarker(ctx.updates, ctx.marker);
  const c = ctx.circuit.report();
  return {
    active_slot: i.slot ?? 'installed',
    active_slot_integrity_status: i.status,
    active_slot_integrity_message: i.message,
    active_slot_signature_present: i.signature_present,
    active_slot_signature_verified: i.signature_verified,
    active_slot_require_signed: i.require_signed,
    apply_failure_consecutive: c.consecutive_failures,
    apply_failure_threshold: c.threshold,
    apply_failure_circuit_open: c.circuit_open,
  };
}
