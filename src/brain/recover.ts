// Runs recorded in the state by a process that is gone (crash, kill -9) are recovered: the
// task goes back to the head of the queue (a counted attempt), so nothing is lost or stuck.
import { emitEvent } from '../observe/index.js';
import type { PoolState } from './state.js';

/** Tasks this process is running right now, as `<state path>#<task id>`. */
const inflight = new Set<string>();

export function trackInflight(key: string): void {
  inflight.add(key);
}

export function untrackInflight(key: string): void {
  inflight.delete(key);
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Grace beyond the run timeout before a run of a live but silent process is given up. */
const STALE_GRACE_MS = 5 * 60_000;

/**
 * Drops running entries whose owner is dead (or that outlived the hard timeout by far). A
 * queued task, or a chat turn whose caller died with it, is requeued at the head until it has
 * used `maxAttempts`; the reserved use stays counted (the run may have cost quota).
 */
export function recoverRunning(s: PoolState, statePath: string, now: number, timeoutMs: number, maxAttempts: number): boolean {
  let changed = false;
  const keep: PoolState['running'] = [];
  for (const r of s.running) {
    const mine = r.owner_pid === process.pid;
    const alive = mine ? inflight.has(`${statePath}#${r.task.id}`) : pidAlive(r.owner_pid);
    const stale = !mine && now - r.started_at_ms > timeoutMs + STALE_GRACE_MS;
    if (alive && !stale) {
      keep.push(r);
      continue;
    }
    changed = true;
    const requeue = r.kind === 'queued' || r.task.session_id !== null;
    r.task.attempts++;
    r.task.last_error = 'interrupted: the process running it exited';
    const dropped = !requeue || r.task.attempts >= maxAttempts;
    if (!dropped) s.queue.unshift(r.task);
    emitEvent('codex_task_recovered', { task_id: r.task.id, owner_pid: r.owner_pid, requeued: !dropped });
  }
  s.running = keep;
  return changed;
}
