// `WS/pulse/state.json`: reads the original's file and ours. Entries or fields that fail their
// schema are dropped or reset, and the file is backed up before the salvaged state replaces it
// (store's JsonStateFile: atomic writes, read-modify-write under a cross-process lock).
import { JsonStateFile, SchemaError, schema as S, type Check } from '../store/index.js';
import { decodeAction, iso } from './jobs.js';
import { parseAction } from './ooda.js';
import { decodeSkillGeneration } from './skill-job.js';
import type { Approval, ApprovalStatus, Goal, JobSnapshot, Notification, PendingAction, PulseState, Risk, RunRecord } from './types.js';

export const MAX_HISTORY_PER_JOB = 10;
export const MAX_APPROVAL_HISTORY = 200;
export const MAX_NOTIFICATIONS = 100;

export function emptyState(nowMs: number): PulseState {
  return { updated_at: iso(nowMs), jobs: [], pending_approvals: [], goals: [], approval_history: [], removed_default_jobs: [], notifications: [], last_tick: null };
}

const RISKS: Risk[] = ['low', 'medium', 'high', 'critical'];
const STATUSES: ApprovalStatus[] = ['pending', 'approved', 'rejected', 'expired'];
const optStr = S.nullable(S.string);
const count = S.number({ integer: true, min: 0 });
const seconds = S.number({ min: 0 });
const nullableStatus = S.nullable(S.literal('ok', 'error'));

/** Thrown for an entry that cannot be kept; the message names the path. */
const drop = (path: string, problem: string): never => {
  throw new SchemaError(path, problem);
};

const decodeRun: Check<RunRecord> = S.object({
  started_at: S.string,
  due_at: S.withDefault(optStr, () => null),
  status: S.literal('ok', 'error'),
  latency_ms: S.withDefault(S.number({ min: 0 }), () => 0),
  message: S.withDefault(S.string, () => ''),
});

function decodeJob(v: unknown, path: string, issues: string[]): JobSnapshot {
  if (!S.isObject(v)) return drop(path, 'expected a job object');
  const id = S.string(v.id, `${path}.id`).trim();
  if (!/^[a-z0-9_-]+$/.test(id)) return drop(`${path}.id`, `'${id}' is not a job id`);
  const action = decodeSkillGeneration(v.action, (problem) => drop(`${path}.action`, problem)) ?? decodeAction(v.action) ?? drop(`${path}.action`, 'unknown job action');
  const interval = seconds(v.interval_secs, `${path}.interval_secs`);
  const f = <T>(k: string, check: Check<T>, fallback: T): T => S.salvageField(v[k], `${path}.${k}`, check, fallback, issues);
  const job: JobSnapshot = {
    id,
    interval_secs: Math.max(1, Math.floor(interval)),
    action,
    enabled: f('enabled', S.boolean, true),
    runs: f('runs', count, 0),
    next_due_at: f('next_due_at', S.string, ''),
    last_run_at: f('last_run_at', optStr, null),
    last_status: f('last_status', nullableStatus, null),
    last_message: f('last_message', optStr, null),
    history: S.salvageArray(v.history, `${path}.history`, decodeRun, issues).slice(-MAX_HISTORY_PER_JOB),
  };
  const since = f('asking_since', S.string, '');
  if (since) job.asking_since = since;
  return job;
}

function decodeApproval(v: unknown, path: string, issues: string[], ttlSecs: number, nowMs: number): Approval {
  if (!S.isObject(v)) return drop(path, 'expected an approval object');
  const token = S.string(v.token, `${path}.token`);
  if (!token) return drop(`${path}.token`, 'empty token');
  const action = S.string(v.action, `${path}.action`);
  const f = <T>(k: string, check: Check<T>, fallback: T): T => S.salvageField(v[k], `${path}.${k}`, check, fallback, issues);
  const created = f('created_at', S.string, iso(nowMs));
  const createdMs = Date.parse(created);
  const a: Approval = {
    token,
    action,
    // An unknown risk is treated as high: it still waits for a human.
    risk: f('risk', S.literal(...RISKS), 'high'),
    reason: f('reason', S.string, 'human approval required for risky action'),
    created_at: created,
    status: f('status', S.literal(...STATUSES), 'pending'),
    // An original entry has no expiry: it gets one TTL from its creation.
    expires_at: f('expires_at', S.string, iso((Number.isFinite(createdMs) ? createdMs : nowMs) + ttlSecs * 1000)),
    perform: f('perform', decodePerform, parseAction(action)),
  };
  const goal = f('goal_id', S.string, '');
  if (goal) a.goal_id = goal;
  const decided = f('decided_at', S.string, '');
  if (decided) a.decided_at = decided;
  const outcome = f<Approval['outcome']>('outcome', S.object({ status: S.literal('ok', 'error', 'recorded'), message: S.string, finished_at: S.string }), undefined);
  if (outcome) a.outcome = outcome;
  return a;
}

const decodePerform: Check<PendingAction> = (v, path) => {
  if (!S.isObject(v)) return drop(path, 'expected an action object');
  switch (v.kind) {
    case 'tool':
      return S.object({ kind: S.literal('tool'), name: S.string, args: S.string, session_id: S.string, request_id: S.string })(v, path);
    case 'skill':
      return S.object({ kind: S.literal('skill'), name: S.string, args: S.string })(v, path);
    case 'skill_generation':
      return S.object({ kind: S.literal('skill_generation'), name: S.string, goal: S.string })(v, path);
    case 'skill_promotion':
      return S.object({ kind: S.literal('skill_promotion'), skill: S.string, goal: S.string, replace: S.boolean })(v, path);
    case 'http': {
      const h: PendingAction = S.object({ kind: S.literal('http'), method: S.string, url: S.string })(v, path);
      return v.body === undefined ? h : { ...h, body: S.string(v.body, `${path}.body`) };
    }
    case 'notify':
      return S.object({ kind: S.literal('notify'), text: S.string })(v, path);
    case 'none':
      return { kind: 'none' };
    default:
      return drop(`${path}.kind`, `unknown action kind ${JSON.stringify(v.kind) ?? 'undefined'}`);
  }
};

function decodeGoal(v: unknown, path: string, issues: string[], nowMs: number): Goal {
  if (!S.isObject(v)) return drop(path, 'expected a goal object');
  const f = <T>(k: string, check: Check<T>, fallback: T): T => S.salvageField(v[k], `${path}.${k}`, check, fallback, issues);
  return { id: S.string(v.id, `${path}.id`), description: f('description', S.string, ''), achieved: f('achieved', S.boolean, false), updated_at: f('updated_at', S.string, iso(nowMs)), notes: f('notes', optStr, null) };
}

const decodeNotification: Check<Notification> = (v, path) => {
  if (!S.isObject(v)) return drop(path, 'expected a notification object');
  S.string(v.id, `${path}.id`);
  return v as unknown as Notification;
};

/**
 * Decodes a state file (the original's or ours). Throws only when it is not a JSON object;
 * every entry or field that fails is dropped or reset and reported in `issues` (the state
 * file helper then backs the file up before the salvaged state replaces it).
 */
export function decodeState(value: unknown, ttlSecs: number, nowMs = Date.now(), issues: string[] = []): PulseState {
  if (!S.isObject(value)) throw new SchemaError('', 'pulse state is not a JSON object');
  const o = value;
  const s = emptyState(nowMs);
  s.updated_at = S.salvageField(o.updated_at, 'updated_at', S.string, s.updated_at, issues);
  const list = <T>(k: string, decode: (x: unknown, path: string) => T): T[] => S.salvageArray(o[k], k, (x, path) => decode(x, path), issues);
  s.jobs = list('jobs', (x, p) => decodeJob(x, p, issues));
  s.pending_approvals = list('pending_approvals', (x, p) => decodeApproval(x, p, issues, ttlSecs, nowMs)).filter((a) => a.status === 'pending');
  s.approval_history = list('approval_history', (x, p) => decodeApproval(x, p, issues, ttlSecs, nowMs)).slice(-MAX_APPROVAL_HISTORY);
  s.goals = list('goals', (x, p) => decodeGoal(x, p, issues, nowMs));
  s.removed_default_jobs = list('removed_default_jobs', S.string);
  s.notifications = list('notifications', decodeNotification).slice(-MAX_NOTIFICATIONS);
  s.last_tick = S.salvageField(o.last_tick, 'last_tick', S.nullable(S.object({ executed: S.number({ min: 0 }), errors: S.number({ min: 0 }) })), null, issues);
  return s;
}

export class PulseStateStore {
  private readonly file: JsonStateFile<PulseState>;
  constructor(
    readonly path: string,
    ttlSecs: number,
    private readonly now: () => number,
  ) {
    this.file = new JsonStateFile(path, { what: 'pulse state', empty: () => emptyState(this.now()), decode: (v, issues) => decodeState(v, ttlSecs, this.now(), issues) });
  }

  /** Current state without the lock (the file is replaced atomically). */
  read(): PulseState {
    return this.file.read();
  }

  /** Locked read-modify-write; `fn` returns `{ value, write }` (write false → file untouched). */
  async update<T>(fn: (s: PulseState) => { value: T; write: boolean }, options: { fsync?: boolean; afterWrite?: (s: PulseState) => void } = {}): Promise<T> {
    return this.file.update(
      (s) => {
        const { value, write } = fn(s);
        return { result: value, changed: write };
      },
      {
        ...(options.fsync === undefined ? {} : { fsync: options.fsync }),
        beforeWrite: (s) => {
          s.updated_at = iso(this.now());
          s.jobs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
          s.goals.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
          s.pending_approvals.sort((a, b) => (a.token < b.token ? -1 : a.token > b.token ? 1 : 0));
        },
        ...(options.afterWrite ? { afterWrite: options.afterWrite } : {}),
      },
    );
  }
}
