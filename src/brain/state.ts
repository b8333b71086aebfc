// The Codex pool's persisted state (`${WORKSPACE}/codex/state.json`): per-account use and
// health, the FIFO queue and the tasks being run. Every read-modify-write holds the file lock,
// so a CLI call and the `serve` worker see and update the same counters and queue.
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { redactSecrets } from '../kernel/index.js';
import { readJsonFile, withFileLock, writeJsonAtomic } from '../store/index.js';

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

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown, def: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : def);

function decodeTask(v: unknown): QueuedTask {
  if (!isObj(v) || typeof v.id !== 'number' || typeof v.prompt !== 'string') throw new Error('queue entry is not a task');
  return {
    id: v.id,
    purpose: str(v.purpose) ?? 'general',
    prompt: v.prompt,
    queued_at: str(v.queued_at) ?? '',
    queued_at_ms: num(v.queued_at_ms, 0),
    attempts: Math.max(0, Math.floor(num(v.attempts, 0))),
    last_error: str(v.last_error),
    request_id: str(v.request_id),
    session_id: str(v.session_id),
    channel: str(v.channel),
    chat_id: str(v.chat_id),
  };
}

function decodeQuota(v: unknown): AccountQuota | null {
  if (!isObj(v) || typeof v.primary_used_percent !== 'number' || !Number.isFinite(v.primary_used_percent)) return null;
  return {
    primary_used_percent: v.primary_used_percent,
    secondary_used_percent: typeof v.secondary_used_percent === 'number' && Number.isFinite(v.secondary_used_percent) ? v.secondary_used_percent : null,
    resets_at_ms: typeof v.resets_at_ms === 'number' && Number.isFinite(v.resets_at_ms) ? v.resets_at_ms : null,
    source: v.source === 'app-server' ? 'app-server' : 'rollout',
    read_at_ms: num(v.read_at_ms, 0),
  };
}

/** Strict enough to refuse a file that is not ours; tolerant of missing optional fields. */
export function decodeState(value: unknown): PoolState {
  if (!isObj(value)) throw new Error('codex state is not a JSON object');
  if (!Array.isArray(value.queue) || !isObj(value.accounts)) throw new Error('codex state lacks queue/accounts');
  const s = emptyState();
  s.next_task_id = Math.max(1, Math.floor(num(value.next_task_id, 1)));
  for (const [id, a] of Object.entries(value.accounts)) {
    if (!isObj(a)) throw new Error(`account '${id}' is not an object`);
    s.accounts[id] = {
      healthy: a.healthy !== false,
      last_error: str(a.last_error),
      uses: Array.isArray(a.uses) ? a.uses.filter((u): u is number => typeof u === 'number' && Number.isFinite(u)) : [],
      last_healthcheck_ms: typeof a.last_healthcheck_ms === 'number' ? a.last_healthcheck_ms : null,
      last_healthcheck_at: str(a.last_healthcheck_at),
      cooldown_until_ms: typeof a.cooldown_until_ms === 'number' ? a.cooldown_until_ms : null,
      last_error_kind: str(a.last_error_kind),
      auth_failed_fingerprint: str(a.auth_failed_fingerprint),
      quota: decodeQuota(a.quota),
    };
  }
  s.queue = value.queue.map(decodeTask);
  for (const r of Array.isArray(value.running) ? value.running : []) {
    if (!isObj(r)) throw new Error('running entry is not an object');
    s.running.push({
      task: decodeTask(r.task),
      account_id: str(r.account_id) ?? '',
      owner_pid: Math.floor(num(r.owner_pid, 0)),
      started_at_ms: num(r.started_at_ms, 0),
      reserved_at_ms: num(r.reserved_at_ms, 0),
      kind: r.kind === 'direct' ? 'direct' : 'queued',
    });
  }
  const maxId = Math.max(0, ...s.queue.map((t) => t.id), ...s.running.map((r) => r.task.id));
  if (s.next_task_id <= maxId) s.next_task_id = maxId + 1;
  return s;
}

/** The state file and its lock. Prompts are stored, so the directory is 0700 and the file 0600. */
export class StateFile {
  readonly path: string;
  constructor(workspace: string) {
    this.path = join(workspace, 'codex', 'state.json');
  }

  /** Current state without the lock (the file is replaced atomically): for cheap peeks only. */
  peek(): PoolState {
    const r = readJsonFile(this.path, 'codex state', decodeState);
    return r.state === 'ok' ? r.value : emptyState();
  }

  /** Read-modify-write under the cross-process lock; `fn` returns the result, and saving is skipped when it says so. */
  async update<T>(fn: (state: PoolState) => { result: T; changed: boolean }): Promise<T> {
    ensurePrivateDir(dirname(this.path));
    return withFileLock(this.path, () => {
      const state = this.peek();
      const { result, changed } = fn(state);
      if (changed) writeJsonAtomic(this.path, redactState(state), { mode: 0o600 });
      return result;
    });
  }
}

/** Error texts can carry what a CLI printed (its environment, keys): redacted before they are stored. */
function redactState(s: PoolState): PoolState {
  for (const a of Object.values(s.accounts)) if (a.last_error) a.last_error = redactSecrets(a.last_error);
  for (const t of [...s.queue, ...s.running.map((r) => r.task)]) if (t.last_error) t.last_error = redactSecrets(t.last_error);
  return s;
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
