// One tick: claim the due jobs (rescheduled before they run, so a concurrent tick in another
// process skips them; an overdue job runs once, never a burst), run them in parallel, record
// outcomes and history, and turn failing/recovering state changes into OODA cycles.
import { emitEvent } from '../observe/index.js';
import { iso, isCodexAction } from './jobs.js';
import { executeJobAction } from './executors.js';
import { skillRequests } from './skill-job.js';
import { runOodaCycle } from './cycle.js';
import { MAX_HISTORY_PER_JOB } from './state-store.js';
import type { PulseService } from './service.js';
import type { JobSnapshot, PulseState, RunRecord, TickResult } from './types.js';

export interface TickOutcome {
  executed_jobs: number;
  results: TickResult[];
  /** Earliest next due time of an enabled job (epoch ms), or undefined when none. */
  nextDueMs: number | undefined;
  /** OODA cycles and notifications for state changes (the CLI awaits it; serve does not block on it). */
  followUp: Promise<void>;
}

export type StateChange = { job: JobSnapshot; failing: boolean; message: string };
export type JobRun = { id: string; record: RunRecord };

export interface Claimed {
  job: JobSnapshot;
  dueMs: number;
}

/** Earliest due time among runnable jobs. */
export function nextDue(s: PulseState, codexEnabled: boolean): number | undefined {
  let min: number | undefined;
  for (const j of s.jobs) {
    if (!j.enabled || (!codexEnabled && isCodexAction(j.action))) continue;
    const t = Date.parse(j.next_due_at);
    if (Number.isFinite(t) && (min === undefined || t < min)) min = t;
  }
  return min;
}

/** Marks due jobs as claimed: rescheduled before they run (cadence kept; after a gap, once). */
export function claimDue(s: PulseState, now: number, codexEnabled: boolean): Claimed[] {
  const out: Claimed[] = [];
  for (const j of s.jobs) {
    if (!j.enabled || (!codexEnabled && isCodexAction(j.action))) continue;
    const dueMs = Date.parse(j.next_due_at);
    if (!(now >= dueMs)) continue;
    const period = j.interval_secs * 1000;
    j.next_due_at = iso(now - dueMs < period ? dueMs + period : now + period);
    out.push({ job: { ...j }, dueMs });
  }
  return out;
}

/** Records finished runs (counters, bounded history, last tick) and returns ok↔error changes. */
export function applyRuns(s: PulseState, runs: JobRun[]): StateChange[] {
  const changes: StateChange[] = [];
  for (const { id, record } of runs) {
    const j = s.jobs.find((x) => x.id === id);
    if (!j) continue; // removed while it ran
    const prev = j.last_status;
    j.runs += 1;
    j.last_run_at = record.started_at;
    j.last_status = record.status;
    j.last_message = record.message;
    j.history.push(record);
    if (j.history.length > MAX_HISTORY_PER_JOB) j.history.splice(0, j.history.length - MAX_HISTORY_PER_JOB);
    if (record.status === 'error' && prev !== 'error') changes.push({ job: { ...j }, failing: true, message: record.message });
    if (record.status === 'ok' && prev === 'error') changes.push({ job: { ...j }, failing: false, message: record.message });
  }
  if (runs.length > 0) s.last_tick = { executed: runs.length, errors: runs.filter((r) => r.record.status === 'error').length };
  return changes;
}

export async function runTick(svc: PulseService): Promise<TickOutcome> {
  const now = svc.now();
  let next: number | undefined;
  const claimed = await svc.mutate(
    (s) => {
      const out = claimDue(s, now, svc.codexEnabled);
      next = nextDue(s, svc.codexEnabled);
      return out;
    },
    // The claim is a hint for other processes; the outcome write below is the durable one.
    { fsync: false },
  );
  if (claimed.length === 0) return { executed_jobs: 0, results: [], nextDueMs: next, followUp: Promise.resolve() };

  const runs = await runAll(svc, claimed);
  const changes = await svc.mutate((s) => {
    const c = applyRuns(s, runs);
    next = nextDue(s, svc.codexEnabled);
    return c;
  });
  const results = runs.map((r) => ({ job_id: r.id, status: r.record.status, message: r.record.message }));
  return { executed_jobs: runs.length, results, nextDueMs: next, followUp: handleChanges(svc, changes) };
}

export async function runAll(svc: PulseService, claimed: Claimed[]): Promise<JobRun[]> {
  const limit = Math.max(1, svc.options.concurrency ?? 50);
  const out: JobRun[] = new Array(claimed.length);
  let nextIdx = 0;
  const worker = async (): Promise<void> => {
    for (let i = nextIdx++; i < claimed.length; i = nextIdx++) {
      const { job, dueMs } = claimed[i] as Claimed;
      const start = svc.now();
      svc.options.onRunStart?.(job.id, dueMs, start);
      const t0 = performance.now();
      const r = await executeJobAction(job, svc.callbacks, svc.codexEnabled, svc.settings.allowPrivateHealthchecks, (skill) => skillRequests(svc.store.read(), skill, job.asking_since, svc.now()));
      const latency = Math.round(performance.now() - t0);
      out[i] = { id: job.id, record: { started_at: iso(start), due_at: iso(dueMs), status: r.ok ? 'ok' : 'error', latency_ms: latency, message: r.message } };
      if (!r.ok) emitEvent('pulse_job_error', { job_id: job.id, latency_ms: latency, message: r.message });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, claimed.length) }, worker));
  return out;
}

export async function handleChanges(svc: PulseService, changes: StateChange[]): Promise<void> {
  for (const c of changes) {
    const text = c.failing ? `[pulse] job '${c.job.id}' is failing: ${c.message}` : `[pulse] job '${c.job.id}' recovered: ${c.message}`;
    try {
      await runOodaCycle(svc, {
        action: 'notify operator about a job state change',
        observations: [{ source: 'pulse', key: `job:${c.job.id}`, value: c.message, severity: c.failing ? 'error' : 'info' }],
        perform: { kind: 'notify', text },
      });
    } catch (err) {
      emitEvent('pulse_error', { job_id: c.job.id, message: (err as Error).message });
    }
  }
}
