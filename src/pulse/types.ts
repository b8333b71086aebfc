// Pulse data model: job actions and snapshots, run history, approvals, goals, OODA reports, and
// the state file shape (the original's fields plus our additions, reference §3.1–§3.9).

/** Job action, serialised as the original (externally tagged, snake_case). */
export type JobAction =
  | 'codex_health_check'
  | 'codex_drain_queue_one'
  | { emit_log: { message: string } }
  | { http_health_check: { url: string; expected_status: number; timeout_secs: number } }
  /** Asks Evolution for a skill (named like the OODA action's PendingAction kind and the audit record). */
  | { skill_generation: { name: string; goal: string; replace: boolean } };

export type RunStatus = 'ok' | 'error';

/** One finished run of a job (bounded history per job). */
export interface RunRecord {
  started_at: string;
  /** Scheduled due time the run answered (null for a forced run). */
  due_at: string | null;
  status: RunStatus;
  latency_ms: number;
  message: string;
}

/** Job as persisted and printed (original snapshot + `history`). */
export interface JobSnapshot {
  id: string;
  interval_secs: number;
  action: JobAction;
  enabled: boolean;
  runs: number;
  next_due_at: string;
  last_run_at: string | null;
  last_status: RunStatus | null;
  last_message: string | null;
  history: RunRecord[];
  /**
   * Skill generation jobs only: set when the job is added or enabled. A candidate the operator
   * rejected or let expire after this time pauses the job until it is enabled again.
   */
  asking_since?: string;
}

export type Risk = 'low' | 'medium' | 'high' | 'critical';
export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

/** What approving performs (an executor per kind); `none` is recorded only. */
export type PendingAction =
  | { kind: 'tool'; name: string; args: string; session_id: string; request_id: string }
  | { kind: 'skill'; name: string; args: string }
  /** A generated skill waiting in staging (Evolution): approving promotes it. */
  | { kind: 'skill_promotion'; skill: string; goal: string; replace: boolean }
  /** Asks Evolution for a new skill (`skill_create <name> <goal>`); it ends in a promotion approval. */
  | { kind: 'skill_generation'; name: string; goal: string }
  | { kind: 'http'; method: string; url: string; body?: string }
  | { kind: 'notify'; text: string }
  | { kind: 'none' };

export interface ApprovalOutcome {
  status: 'ok' | 'error' | 'recorded';
  message: string;
  finished_at: string;
}

export interface Approval {
  token: string;
  action: string;
  risk: Risk;
  reason: string;
  created_at: string;
  status: ApprovalStatus;
  expires_at: string;
  perform: PendingAction;
  /** Goal an OODA cycle named; achieved when the approved action succeeds. */
  goal_id?: string;
  decided_at?: string;
  outcome?: ApprovalOutcome;
}

export interface Goal {
  id: string;
  description: string;
  achieved: boolean;
  updated_at: string;
  notes: string | null;
}

export interface Observation {
  source: string;
  key: string;
  value: string;
  severity: string;
}

export interface OodaReport {
  timestamp: string;
  observations: Observation[];
  orientation: string;
  /** `model` when the configured model assessed the observations, else `rule`. */
  orientation_source: 'model' | 'rule';
  orientation_note?: string;
  decision: 'continue' | 'escalate';
  action: string;
  risk: Risk;
  approval_status: 'approved' | 'pending';
  approval_token: string | null;
  goal_id: string | null;
  /** What Act did when no approval was needed (null: nothing executable). */
  act_result: ApprovalOutcome | null;
}

/**
 * A notification to the operator. `queued`: handed to the durable outbox (serve delivers it);
 * `pending`: left by an older version for a process with channels (moved to the outbox once).
 */
export interface Notification {
  id: string;
  created_at: string;
  target: string;
  text: string;
  status: 'pending' | 'queued' | 'sent' | 'failed';
  error?: string;
}

export interface PulseState {
  updated_at: string;
  jobs: JobSnapshot[];
  pending_approvals: Approval[];
  goals: Goal[];
  approval_history: Approval[];
  /** Default job ids the operator removed (so they do not come back at the next start). */
  removed_default_jobs: string[];
  notifications: Notification[];
  last_tick: { executed: number; errors: number } | null;
}

export interface TickResult {
  job_id: string;
  status: RunStatus;
  message: string;
}
