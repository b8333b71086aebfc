// `WS/pulse/state.json`: tolerant decode (reads the original's file; unknown or broken entries
// are dropped with a warning), atomic writes, and read-modify-write under a cross-process lock.
import { readJsonFile, withFileLock, writeJsonAtomic } from '../store/index.js';
import { emitWarning } from '../observe/index.js';
import { decodeAction, iso } from './jobs.js';
import { parseAction } from './ooda.js';
import type { Approval, ApprovalStatus, Goal, JobSnapshot, Notification, PulseState, Risk, RunRecord } from './types.js';

export const MAX_HISTORY_PER_JOB = 10;
export const MAX_APPROVAL_HISTORY = 200;
export const MAX_NOTIFICATIONS = 100;

export function emptyState(nowMs: number): PulseState {
  return { updated_at: iso(nowMs), jobs: [], pending_approvals: [], goals: [], approval_history: [], removed_default_jobs: [], notifications: [], last_tick: null };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const RISKS: Risk[] = ['low', 'medium', 'high', 'critical'];

function decodeJob(v: unknown): JobSnapshot | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const id = str(o.id)?.trim();
  const action = decodeAction(o.action);
  if (!id || !/^[a-z0-9_-]+$/.test(id) || !action || typeof o.interval_secs !== 'number') return undefined;
  const history = Array.isArray(o.history) ? (o.history.filter((h) => h && typeof h === 'object' && typeof (h as RunRecord).status === 'string') as RunRecord[]) : [];
  return {
    id,
    interval_secs: Math.max(1, Math.floor(o.interval_secs)),
    action,
    enabled: o.enabled !== false,
    runs: typeof o.runs === 'number' ? o.runs : 0,
    next_due_at: str(o.next_due_at) ?? '',
    last_run_at: strOrNull(o.last_run_at),
    last_status: o.last_status === 'ok' || o.last_status === 'error' ? o.last_status : null,
    last_message: strOrNull(o.last_message),
    history: history.slice(-MAX_HISTORY_PER_JOB),
  };
}

function decodeApproval(v: unknown, ttlSecs: number): Approval | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const token = str(o.token);
  const action = str(o.action);
  if (!token || action === undefined) return undefined;
  const created = str(o.created_at) ?? iso(Date.now());
  const createdMs = Date.parse(created);
  const a: Approval = {
    token,
    action,
    risk: RISKS.includes(o.risk as Risk) ? (o.risk as Risk) : 'high',
    reason: str(o.reason) ?? 'human approval required for risky action',
    created_at: created,
    status: (['pending', 'approved', 'rejected', 'expired'] as ApprovalStatus[]).includes(o.status as ApprovalStatus) ? (o.status as ApprovalStatus) : 'pending',
    // An original entry has no expiry: it gets one TTL from its creation.
    expires_at: str(o.expires_at) ?? iso((Number.isFinite(createdMs) ? createdMs : Date.now()) + ttlSecs * 1000),
    perform: o.perform && typeof o.perform === 'object' && typeof (o.perform as { kind?: unknown }).kind === 'string' ? (o.perform as Approval['perform']) : parseAction(action),
  };
  if (typeof o.goal_id === 'string') a.goal_id = o.goal_id;
  if (typeof o.decided_at === 'string') a.decided_at = o.decided_at;
  if (o.outcome && typeof o.outcome === 'object') a.outcome = o.outcome as Approval['outcome'];
  return a;
}

function decodeGoal(v: unknown): Goal | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const id = str(o.id);
  if (!id) return undefined;
  return { id, description: str(o.description) ?? '', achieved: o.achieved === true, updated_at: str(o.updated_at) ?? iso(Date.now()), notes: strOrNull(o.notes) };
}

function list<T>(v: unknown, decode: (x: unknown) => T | undefined, what: string): T[] {
  if (!Array.isArray(v)) return [];
  const out: T[] = [];
  for (const item of v) {
    const d = decode(item);
    if (d) out.push(d);
    else emitWarning(`pulse state: dropped an unreadable ${what} entry`, { entry: JSON.stringify(item)?.slice(0, 200) ?? null });
  }
  return out;
}

/** Decodes a state file (original or ours). Throws only when it is not a JSON object. */
export function decodeState(value: unknown, ttlSecs: number, nowMs = Date.now()): PulseState {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('pulse state is not a JSON object');
  const o = value as Record<string, unknown>;
  const s = emptyState(nowMs);
  s.updated_at = str(o.updated_at) ?? s.updated_at;
  s.jobs = list(o.jobs, decodeJob, 'job');
  const approvals = list(o.pending_approvals, (x) => decodeApproval(x, ttlSecs), 'approval');
  s.pending_approvals = approvals.filter((a) => a.status === 'pending');
  s.approval_history = list(o.approval_history, (x) => decodeApproval(x, ttlSecs), 'approval history').slice(-MAX_APPROVAL_HISTORY);
  s.goals = list(o.goals, decodeGoal, 'goal');
  s.removed_default_jobs = Array.isArray(o.removed_default_jobs) ? o.removed_default_jobs.filter((x): x is string => typeof x === 'string') : [];
  s.notifications = Array.isArray(o.notifications) ? (o.notifications.filter((n) => n && typeof n === 'object' && typeof (n as Notification).id === 'string') as Notification[]).slice(-MAX_NOTIFICATIONS) : [];
  const lt = o.last_tick as Record<string, unknown> | null | undefined;
  s.last_tick = lt && typeof lt.executed === 'number' && typeof lt.errors === 'number' ? { executed: lt.executed, errors: lt.errors } : null;
  return s;
}

export class PulseStateStore {
  constructor(
    readonly path: string,
    private readonly ttlSecs: number,
    private readonly now: () => number,
  ) {}

  /** Current state without the lock (the file is replaced atomically). */
  read(): PulseState {
    const r = readJsonFile(this.path, 'pulse state', (v) => decodeState(v, this.ttlSecs, this.now()));
    return r.state === 'ok' ? r.value : emptyState(this.now());
  }

  /** Locked read-modify-write; `fn` returns `{ value, write }` (write false → file untouched). */
  async update<T>(fn: (s: PulseState) => { value: T; write: boolean }, options: { fsync?: boolean; afterWrite?: (s: PulseState) => void } = {}): Promise<T> {
    return withFileLock(this.path, () => {
      const s = this.read();
      const { value, write } = fn(s);
      if (write) {
        s.updated_at = iso(this.now());
        s.jobs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        s.goals.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        s.pending_approvals.sort((a, b) => (a.token < b.token ? -1 : a.token > b.token ? 1 : 0));
        writeJsonAtomic(this.path, s, { fsync: options.fsync ?? true });
        options.afterWrite?.(s);
      }
      return value;
    });
  }
}
