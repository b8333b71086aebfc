// The Codex pool's persisted state (`${WORKSPACE}/codex/state.json`): per-account use and
// health, the FIFO queue and the tasks being run. Every read-modify-write holds the file lock,
// so a CLI call and the `serve` worker see and update the same counters and queue.
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { redactSecrets } from '../kernel/index.js';
import { JsonStateFile, SchemaError, schema as S, type Check, type StateCodec } from '../store/index.js';

export interface AccountState {
  healthy: boolean;
  last_error: string | null;
  /** Epoch ms of each counted run still inside the rolling window (runs in flight included). */
  uses: number[];
  last_healthcheck_ms: number | null;
  last_healthcheck_at: string | null;
  /** Set when a run was refused for rate limits: no new work before this (epoch ms). */
  cooldown_until_ms: number | null;
  /** Kind of the last failure (the classifier's: auth, quota, rate_limit, network, timeout, other). */
  last_error_kind: string | null;
  /**
   * A real run answered 401: the login it used (fingerprint of auth.json and key) is bad. The
   * account stays unhealthy, whatever `login status` says, until that login changes.
   */
  auth_failed_fingerprint: string | null;
  /** Real quota read from the CLI (ChatGPT plans): remaining = 100 − max(primary, secondary). */
  quota: AccountQuota | null;
}

export interface AccountQuota {
  primary_used_percent: number;
  secondary_used_percent: number | null;
  /** When the binding window resets (epoch ms), if known. */
  resets_at_ms: number | null;
  /** Where the figure came from: `codex app-server` (account/rateLimits/read) or a run's rollout file. */
  source: 'app-server' | 'rollout';
  read_at_ms: number;
}

/** A queued piece of work. `session_id` set ⇒ its answer goes back to that chat. */
export interface QueuedTask {
  id: number;
  purpose: string;
  prompt: string;
  queued_at: string;
  queued_at_ms: number;
  /** Failed runs so far; the task is dropped (and the chat told) at MAX_TASK_ATTEMPTS. */
  attempts: number;
  last_error: string | null;
  request_id: string | null;
  session_id: string | null;
  channel: string | null;
  chat_id: string | null;
}

/** A task being executed by some process; recovered (requeued at the front) if that process died. */
export interface RunningTask {
  task: QueuedTask;
  account_id: string;
  owner_pid: number;
  started_at_ms: number;
  /** The `uses` entry reserved for this run (released again if the run fails). */
  reserved_at_ms: number;
  /** From `submit` (the caller waits for it) or from a drain of the queue. */
  kind: 'direct' | 'queued';
}

export interface PoolState {
  version: 1;
  next_task_id: number;
  accounts: Record<string, AccountState>;
  queue: QueuedTask[];
  running: RunningTask[];
}

export function emptyState(): PoolState {
  return { version: 1, next_task_id: 1, accounts: {}, queue: [], running: [] };
}

export function freshAccount(): AccountState {
  return { healthy: true, last_error: null, uses: [], last_healthcheck_ms: null, last_healthcheck_at: null, cooldown_until_ms: null, last_error_kind: null, auth_failed_fingerprint: null, quota: null };
}

const optStr = S.withDefault(S.nullable(S.string), () => null);
const optNum = S.withDefault(S.nullable(S.number()), () => null);
const epochMs = S.number({ min: 0 });

const decodeTask: Check<QueuedTask> = S.object({
  id: S.number({ integer: true, min: 0 }),
  purpose: S.withDefault(S.string, () => 'general'),
  prompt: S.string,
  queued_at: S.withDefault(S.string, () => ''),
  queued_at_ms: S.withDefault(epochMs, () => 0),
  attempts: S.withDefault(S.number({ integer: true, min: 0 }), () => 0),
  last_error: optStr,
  request_id: optStr,
  session_id: optStr,
  channel: optStr,
  chat_id: optStr,
});

const decodeAccount: Check<AccountState> = S.object({
  healthy: S.withDefault(S.boolean, () => true),
  last_error: optStr,
  uses: S.withDefault(S.array(epochMs), () => []),
  last_healthcheck_ms: optNum,
  last_healthcheck_at: optStr,
  cooldown_until_ms: optNum,
  last_error_kind: optStr,
  auth_failed_fingerprint: optStr,
  // A real quota figure that does not validate is dropped (it is re-read), never the account.
  quota: (v: unknown) => decodeQuota(v),
});

function decodeQuota(v: unknown): AccountQuota | null {
  if (!S.isObject(v) || typeof v.primary_used_percent !== 'number' || !Number.isFinite(v.primary_used_percent)) return null;
  const n = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  return {
    primary_used_percent: v.primary_used_percent,
    secondary_used_percent: n(v.secondary_used_percent),
    resets_at_ms: n(v.resets_at_ms),
    source: v.source === 'app-server' ? 'app-server' : 'rollout',
    read_at_ms: n(v.read_at_ms) ?? 0,
  };
}

const decodeRunning: Check<RunningTask> = S.object({
  task: decodeTask,
  account_id: S.string,
  owner_pid: S.number({ integer: true, min: 0 }),
  started_at_ms: S.withDefault(epochMs, () => 0),
  reserved_at_ms: S.withDefault(epochMs, () => 0),
  kind: S.withDefault(S.literal('direct', 'queued'), () => 'queued' as const),
});

/**
 * Throws only when the file is not a pool state at all. Otherwise keeps every entry that
 * validates and reports each dropped one in `issues` (the file is then backed up and
 * rewritten), so one bad account never costs the queued prompts.
 */
export function decodeState(value: unknown, issues: string[] = []): PoolState {
  if (!S.isObject(value)) throw new SchemaError('', 'codex state is not a JSON object');
  if (!Array.isArray(value.queue) || !S.isObject(value.accounts)) throw new SchemaError('', 'codex state lacks queue/accounts');
  const s = emptyState();
  try {
    s.next_task_id = S.withDefault(S.number({ integer: true, min: 1 }), () => 1)(value.next_task_id, 'next_task_id');
  } catch (err) {
    issues.push(`${(err as Error).message}; recomputed`);
  }
  for (const [id, a] of Object.entries(value.accounts)) {
    try {
      s.accounts[id] = decodeAccount(a, `accounts.${id}`);
    } catch (err) {
      issues.push(`${(err as Error).message}; account state reset`);
    }
  }
  s.queue = S.salvageArray(value.queue, 'queue', decodeTask, issues);
  s.running = S.salvageArray(value.running, 'running', decodeRunning, issues);
  const maxId = Math.max(0, ...s.queue.map((t) => t.id), ...s.running.map((r) => r.task.id));
  if (s.next_task_id <= maxId) s.next_task_id = maxId + 1;
  return s;
}

const codec: StateCodec<PoolState> = { what: 'codex state', empty: emptyState, decode: decodeState };

/** The state file and its lock. Prompts are stored, so the directory is 0700 and the file 0600. */
export class StateFile {
  readonly path: string;
  private readonly file: JsonStateFile<PoolState>;
  constructor(workspace: string) {
    this.path = join(workspace, 'codex', 'state.json');
    this.file = new JsonStateFile(this.path, codec, { mode: 0o600 });
  }

  /** Current state without the lock (the file is replaced atomically): for cheap peeks only. */
  peek(): PoolState {
    return this.file.read();
  }

  /** Read-modify-write under the cross-process lock; `fn` returns the result, and saving is skipped when it says so. */
  async update<T>(fn: (state: PoolState) => { result: T; changed: boolean }): Promise<T> {
    ensurePrivateDir(dirname(this.path));
    return this.file.update((state) => {
      const r = fn(state);
      if (r.changed) redactState(state);
      return r;
    });
  }
}

/** Error texts can carry what a CLI printed (its environment, keys): redacted before they are stored. */
function redactState(s: PoolState): void {
  for (const a of Object.values(s.accounts)) if (a.last_error) a.last_error = redactSecrets(a.last_error);
  for (const t of [...s.queue, ...s.running.map((r) => r.task)]) if (t.last_error) t.last_error = redactSecrets(t.last_error);
}

/** Creates `dir` (and parents) and makes it owner-only. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    chmodSync(dir, 0o700);
  } catch {
    // Not ours to change (e.g. a mounted volume): the files inside are still 0600.
  }
}
