// PulseService: every Pulse operation as a locked read-modify-write of the state file, so a
// `serve` worker and CLI calls can share it. Ticks, OODA and notifications live in their own
// modules and use this class's store, settings and callbacks.
import type { PulseSettings } from '../config/index.js';
import { systemClock, type Clock } from './clock.js';
import { createApproval, decideApproval, recordOutcome, sweepExpired, approvalView } from './approvals.js';
import { PulseError, defaultJobs, httpHealthcheckSpec, isCodexAction, iso, newJob, type JobSpec } from './jobs.js';
import { PulseStateStore } from './state-store.js';
import { isSkillGeneration, skillGenerationSpec } from './skill-job.js';
import { classifyRisk, parseAction, requiresApproval, riskAtLeast } from './ooda.js';
import { performAction, type PulseCallbacks } from './executors.js';
import { announceApproval, deliverNotification } from './notify.js';
import type { Approval, Goal, JobSnapshot, PendingAction, PulseState } from './types.js';

export interface PulseOptions {
  /** `${WORKSPACE}/pulse/state.json`. */
  statePath: string;
  settings: PulseSettings;
  codexEnabled: boolean;
  clock?: Clock;
  callbacks?: PulseCallbacks;
  /** Called when a job run starts (benchmarks measure start lateness with it). */
  onRunStart?: (jobId: string, dueMs: number, startMs: number) => void;
  /** Parallel job runs per tick. Default 50. */
  concurrency?: number;
}

export class PulseService {
  readonly store: PulseStateStore;
  readonly clock: Clock;
  readonly settings: PulseSettings;
  readonly callbacks: PulseCallbacks;
  readonly codexEnabled: boolean;

  constructor(readonly options: PulseOptions) {
    this.clock = options.clock ?? systemClock;
    this.settings = options.settings;
    this.callbacks = options.callbacks ?? {};
    this.codexEnabled = options.codexEnabled;
    this.store = new PulseStateStore(options.statePath, options.settings.approvalTtlSecs, () => this.clock.now());
  }

  now(): number {
    return this.clock.now();
  }

  /**
   * Registers default jobs (code wins on interval and action; the enabled flag and counters
   * persist; a removed default stays removed) and repairs unreadable due times.
   */
  applyDefaults(s: PulseState): boolean {
    let changed = false;
    const now = this.now();
    for (const spec of defaultJobs(this.codexEnabled)) {
      if (s.removed_default_jobs.includes(spec.id)) continue;
      const j = s.jobs.find((x) => x.id === spec.id);
      if (!j) {
        s.jobs.push(newJob(spec, now));
        changed = true;
      } else if (j.interval_secs !== spec.interval_secs || JSON.stringify(j.action) !== JSON.stringify(spec.action)) {
        j.interval_secs = spec.interval_secs;
        j.action = spec.action;
        changed = true;
      }
    }
    for (const j of s.jobs) {
      if (!Number.isFinite(Date.parse(j.next_due_at))) {
        j.next_due_at = iso(now + j.interval_secs * 1000);
        changed = true;
      }
    }
    return changed;
  }

  /** Locked update with defaults applied, expired approvals swept, telemetry refreshed. */
  async mutate<T>(fn: (s: PulseState) => T, options: { fsync?: boolean; afterWrite?: (s: PulseState) => void } = {}): Promise<T> {
    let snapshot: PulseState | undefined;
    type R = { ok: true; v: T } | { ok: false; err: unknown };
    const r = await this.store.update<R>((s) => {
      const repaired = this.applyDefaults(s);
      const swept = sweepExpired(s, this.now()) > 0;
      try {
        const v = fn(s);
        snapshot = s;
        return { value: { ok: true, v }, write: true };
      } catch (err) {
        // Keep repairs and sweeps (e.g. an approval that just expired) even when the operation fails.
        return { value: { ok: false, err }, write: repaired || swept };
      }
    }, options);
    if (snapshot) this.reportTelemetry(snapshot);
    if (!r.ok) throw r.err;
    return r.v;
  }

  /** State as seen now (defaults applied in memory; nothing written). */
  view(): PulseState {
    const s = this.store.read();
    this.applyDefaults(s);
    s.jobs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    s.goals.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (!this.codexEnabled) s.jobs = s.jobs.filter((j) => !isCodexAction(j.action));
    return s;
  }

  status(): Record<string, unknown> {
    const s = this.view();
    return { jobs: s.jobs, pending_approvals: s.pending_approvals.map(approvalView), goals: s.goals, approval_history: s.approval_history.slice(-20).map(approvalView), last_tick: s.last_tick };
  }

  telemetrySection(s: PulseState): Record<string, unknown> {
    const jobs = this.codexEnabled ? s.jobs : s.jobs.filter((j) => !isCodexAction(j.action));
    const enabled = jobs.filter((j) => j.enabled).length;
    return {
      updated_at: iso(this.now()),
      jobs_total: jobs.length,
      jobs_enabled: enabled,
      jobs_disabled: jobs.length - enabled,
      pending_approvals: s.pending_approvals.length,
      goals_total: s.goals.length,
      goals_achieved: s.goals.filter((g) => g.achieved).length,
      last_tick_executed_jobs: s.last_tick?.executed ?? 0,
      last_tick_error_jobs: s.last_tick?.errors ?? 0,
    };
  }

  reportTelemetry(s: PulseState = this.view()): void {
    this.callbacks.telemetry?.(this.telemetrySection(s));
  }

  // ---- jobs ----

  async addHttpHealthcheck(input: { id: string; intervalSecs: number; url: string; expectedStatus: number; timeoutSecs: number; enabled: boolean }): Promise<JobSnapshot> {
    return this.putJob(httpHealthcheckSpec({ ...input, allowPrivate: this.settings.allowPrivateHealthchecks }));
  }

  /** A job that asks Evolution for a skill every interval (only when nothing asks for it already). */
  async addSkillGeneration(input: { id: string; intervalSecs: number; name: string; goal: string; replace: boolean; enabled: boolean }): Promise<JobSnapshot> {
    return this.putJob(skillGenerationSpec(input), (j) => (j.asking_since = iso(this.now())));
  }

  /** Adds or replaces an operator job (a default job's id is refused). */
  private async putJob(spec: JobSpec, decorate?: (j: JobSnapshot) => void): Promise<JobSnapshot> {
    if (defaultJobs(true).some((d) => d.id === spec.id)) throw new PulseError(`pulse job id '${spec.id}' is reserved for a default job`);
    return this.mutate((s) => {
      const job = newJob(spec, this.now());
      decorate?.(job);
      s.jobs = s.jobs.filter((j) => j.id !== job.id);
      s.jobs.push(job);
      return job;
    });
  }

  async removeJob(rawId: string): Promise<JobSnapshot> {
    return this.mutate((s) => {
      const j = this.findJob(s, rawId);
      s.jobs = s.jobs.filter((x) => x !== j);
      if (defaultJobs(this.codexEnabled).some((d) => d.id === j.id) && !s.removed_default_jobs.includes(j.id)) s.removed_default_jobs.push(j.id);
      return j;
    });
  }

  async setJobEnabled(rawId: string, enabled: boolean): Promise<JobSnapshot> {
    return this.mutate((s) => {
      const id = rawId.trim();
      // Enabling a removed default job brings it back.
      if (enabled && s.removed_default_jobs.includes(id) && !s.jobs.some((j) => j.id === id)) {
        s.removed_default_jobs = s.removed_default_jobs.filter((x) => x !== id);
        this.applyDefaults(s);
      }
      const j = this.findJob(s, rawId);
      if (enabled && !j.enabled) j.next_due_at = iso(this.now() + j.interval_secs * 1000);
      // Enabling a skill generation job (even an enabled one) resumes it after a refusal.
      if (enabled && isSkillGeneration(j.action)) j.asking_since = iso(this.now());
      j.enabled = enabled;
      return j;
    });
  }

  private findJob(s: PulseState, rawId: string): JobSnapshot {
    const id = rawId.trim();
    if (!id) throw new PulseError('pulse job id is empty');
    const j = s.jobs.find((x) => x.id === id && (this.codexEnabled || !isCodexAction(x.action)));
    if (!j) throw new PulseError(`pulse job '${id}' not found`, 'not_found');
    return j;
  }

  // ---- goals ----

  async addGoal(rawId: string, rawDescription: string): Promise<string> {
    const id = rawId.trim();
    const description = rawDescription.trim();
    if (!id) throw new PulseError('goal id is empty');
    if (!description) throw new PulseError('goal description is empty');
    return this.mutate((s) => {
      s.goals = s.goals.filter((g) => g.id !== id);
      s.goals.push({ id, description, achieved: false, updated_at: iso(this.now()), notes: null });
      return id;
    });
  }

  async achieveGoal(rawId: string, notes = 'marked achieved by operator'): Promise<Goal> {
    return this.mutate((s) => {
      const id = rawId.trim();
      if (!id) throw new PulseError('goal id is empty');
      const g = s.goals.find((x) => x.id === id);
      if (!g) throw new PulseError(`goal '${id}' was not found`, 'not_found');
      Object.assign(g, { achieved: true, updated_at: iso(this.now()), notes });
      return g;
    });
  }

  // ---- approvals ----

  /** Approves and performs the pending action; an expired token cannot be approved. */
  async approve(token: string): Promise<{ status: 'approved'; approval: Record<string, unknown> }> {
    const decided = await this.mutate((s) => decideApproval(s, token, 'approved', this.now()));
    const outcome = await performAction(decided.perform, this.callbacks, {
      allowPrivateHttp: this.settings.allowPrivateHealthchecks,
      now: () => this.now(),
      sendNotify: (text) => deliverNotification(this, text),
    });
    const final = await this.mutate((s) => {
      const a = recordOutcome(s, decided.token, outcome) ?? { ...decided, outcome };
      if (a.goal_id && outcome.status !== 'error') markGoal(s, a.goal_id, iso(this.now()), 'marked achieved by an approved OODA action');
      return a;
    });
    return { status: 'approved', approval: approvalView(final) };
  }

  async reject(token: string, reason?: string): Promise<{ status: 'rejected'; approval: Record<string, unknown> }> {
    const decided = await this.mutate((s) => decideApproval(s, token, 'rejected', this.now(), reason));
    return { status: 'rejected', approval: approvalView(decided) };
  }

  /**
   * The ApprovalGate decision for a model-requested risky tool: auto-allowed → run now;
   * otherwise a pending approval whose token and approve command are returned to the model.
   */
  async requestToolApproval(call: { name: string; args: string; sessionId: string; requestId: string }): Promise<{ approved: boolean; message: string }> {
    const action = `tool ${call.name}${call.args ? ` ${call.args}` : ''}`;
    const perform: PendingAction = { kind: 'tool', name: call.name, args: call.args, session_id: call.sessionId, request_id: call.requestId };
    const classified = classifyRisk(action, [], perform);
    const risk = riskAtLeast(classified, 'high') ? classified : 'high';
    // Auto-allowed only by the tool's name (`tool:<name>`), never by words in its arguments.
    if (!requiresApproval(action, risk, this.settings.autoAllowActions, perform)) return { approved: true, message: 'auto-allowed' };
    const a: Approval = await this.mutate((s) =>
      createApproval(s, { action, risk, nowMs: this.now(), ttlSecs: this.settings.approvalTtlSecs, perform }),
    );
    await announceApproval(this, a);
    return {
      approved: false,
      message: `tool '${call.name}' is risky and waits for operator approval (token ${a.token}, expires ${a.expires_at}). The operator approves with: rusty-pinch pulse approve --token ${a.token} (or rejects with: rusty-pinch pulse reject --token ${a.token}). Tell the user it is pending; do not retry it.`,
    };
  }

  /**
   * A generated skill that posts data or is tagged risky: always a human decision (never
   * auto-allowed). The request shows the goal and a code summary; approving promotes it.
   */
  async requestSkillPromotion(input: { skill: string; goal: string; replace: boolean; reasons: string[]; summary: string }): Promise<Approval> {
    const action = `promote generated skill '${input.skill}' (${input.reasons.join(', ')})\ngoal: ${input.goal}\n${input.summary}`;
    const created = await this.mutate((s) =>
      createApproval(s, { action, risk: 'high', nowMs: this.now(), ttlSecs: this.settings.approvalTtlSecs, perform: { kind: 'skill_promotion', skill: input.skill, goal: input.goal, replace: input.replace } }),
    );
    await announceApproval(this, created);
    return created;
  }

  /** Creates a pending approval for an OODA action (used by the cycle). */
  async createPending(action: string, risk: Approval['risk'], goalId: string | undefined, perform: PendingAction = parseAction(action)): Promise<Approval> {
    const created = await this.mutate((s) => {
      const a = createApproval(s, { action, risk, perform, nowMs: this.now(), ttlSecs: this.settings.approvalTtlSecs });
      if (goalId) a.goal_id = goalId;
      return a;
    });
    await announceApproval(this, created);
    return created;
  }
}

export function markGoal(s: PulseState, goalId: string, at: string, notes: string): boolean {
  const g = s.goals.find((x) => x.id === goalId.trim());
  if (!g) return false;
  Object.assign(g, { achieved: true, updated_at: at, notes });
  return true;
}
