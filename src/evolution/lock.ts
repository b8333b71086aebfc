// The exclusive evolution operation lock (`updates/evolution.lock`, shared by self-update and
// skill generation). Acquire = O_CREAT|O_EXCL create with one line
// `operation=<op> pid=<pid> started_at=<RFC3339>`; release = unlink. A lock is stale when its age
// reaches the threshold OR (our addition) its holder pid is no longer alive on this host, so a
// kill -9 does not block updates for 15 minutes and a slow live apply keeps its lock.
// A lease (`heartbeatSecs`, the per-skill generation claims) is for holds of unknown length:
// the holder refreshes the file's mtime, its age counts from the last refresh, and a file
// without a holder pid (garbage; a lease is written whole before it appears) is stale at once.
// Release removes the file only while it is still this holder's.
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { emitEvent } from '../observe/index.js';
import { EvolutionError } from './errors.js';
import { isNotFound, nowStamp } from './fs-util.js';

export interface LockPolicy {
  /** Seconds after which a lock is stale; 0 disables age-based staleness. */
  staleAfterSecs: number;
  autoRecoverStale: boolean;
  /** A lease: the holder refreshes the mtime this often and the age counts from the refresh. */
  heartbeatSecs?: number;
}

export interface LockStatus {
  lock_path: string;
  lock_exists: boolean;
  operation: string | null;
  pid: number | null;
  started_at: string | null;
  age_secs: number | null;
  holder_alive: boolean | null;
  stale: boolean | null;
  stale_after_secs: number | null;
  auto_recover_stale_lock: boolean;
  force_unlocked: boolean;
}

export interface HeldLock {
  release(): void;
}

/** The operation name of a brief hold around one audit append (skill generations, serve). */
export const AUDIT_APPEND_OPERATION = 'audit-append';

function isContention(err: unknown): boolean {
  return err instanceof EvolutionError && err.code === 'evolution_locked';
}

/** Blocks this thread for `ms` (sync callers waiting out a hold of a few milliseconds). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function parseLock(text: string): { operation?: string; pid?: number; started_at?: string; host?: string } {
  const out: { operation?: string; pid?: number; started_at?: string; host?: string } = {};
  for (const tok of text.split(/\s+/)) {
    const i = tok.indexOf('=');
    if (i <= 0) continue;
    const k = tok.slice(0, i);
    const v = tok.slice(i + 1);
    if (k === 'operation') out.operation = v;
    else if (k === 'pid' && /^\d{1,10}$/.test(v) && Number(v) <= 0xffffffff) out.pid = Number(v);
    else if (k === 'started_at') out.started_at = v;
    else if (k === 'host') out.host = v;
  }
  return out;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class EvolutionLock {
  constructor(
    readonly path: string,
    private readonly policy: LockPolicy,
  ) {}

  status(): LockStatus {
    return this.inspect().status;
  }

  /** The status and the lock file's text it was judged from ('' when there is no lock). */
  private inspect(): { status: LockStatus; text: string } {
    const base: LockStatus = {
      lock_path: this.path,
      lock_exists: false,
      operation: null,
      pid: null,
      started_at: null,
      age_secs: null,
      holder_alive: null,
      stale: null,
      stale_after_secs: this.policy.staleAfterSecs > 0 ? this.policy.staleAfterSecs : null,
      auto_recover_stale_lock: this.policy.autoRecoverStale,
      force_unlocked: false,
    };
    let text: string;
    let mtimeMs: number;
    try {
      text = readFileSync(this.path, 'utf8');
      mtimeMs = statSync(this.path).mtimeMs;
    } catch (err) {
      if (isNotFound(err)) return { status: base, text: '' };
      throw err;
    }
    const p = parseLock(text);
    const started = p.started_at ? Date.parse(p.started_at) : NaN;
    const now = Date.now();
    const lease = (this.policy.heartbeatSecs ?? 0) > 0;
    const from = !lease && Number.isFinite(started) && started <= now ? started : mtimeMs;
    const age = Math.max(0, Math.floor((now - from) / 1000));
    // Liveness only means something for a holder on this host (a shared volume may hold others').
    const alive = p.pid !== undefined && (p.host === undefined || p.host === hostname()) ? pidAlive(p.pid) : null;
    const aged = this.policy.staleAfterSecs > 0 ? age >= this.policy.staleAfterSecs : null;
    const stale = alive === false || (lease && p.pid === undefined) ? true : aged;
    return { status: { ...base, lock_exists: true, operation: p.operation ?? null, pid: p.pid ?? null, started_at: p.started_at ?? null, age_secs: age, holder_alive: alive, stale }, text };
  }

  /**
   * Removes the stale lock judged from `seen`, unless another process recovered it first and
   * holds a fresh lock now (then that lock is given back). Moving the file aside first makes
   * the check and the removal one step: a plain unlink could delete the other's fresh lock.
   */
  private removeStale(seen: string): boolean {
    const aside = `${this.path}.stale-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    try {
      renameSync(this.path, aside);
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
    let moved = '';
    try {
      moved = readFileSync(aside, 'utf8');
    } catch {
      moved = '';
    }
    if (moved !== seen) {
      try {
        linkSync(aside, this.path);
      } catch {
        // a third process took the lock in between: it holds it
      }
      unlinkSync(aside);
      return false;
    }
    unlinkSync(aside);
    return true;
  }

  /** Takes the lock or throws the original's contention message (recovering a stale lock once). */
  acquire(operation: string): HeldLock {
    for (let attempt = 0; ; attempt++) {
      const line = `operation=${operation} pid=${process.pid} started_at=${nowStamp()} host=${hostname()}\n`;
      try {
        if (this.policy.heartbeatSecs) this.createWhole(line);
        else {
          const fd = openSync(this.path, 'wx', 0o600);
          try {
            writeSync(fd, line);
          } finally {
            closeSync(fd);
          }
        }
        return this.held(line);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const { status: st, text: seen } = this.inspect();
      if (!st.lock_exists) continue; // released between our create and read: try again
      if (attempt === 0 && this.policy.autoRecoverStale && st.stale === true) {
        if (!this.removeStale(seen)) continue; // someone else recovered it: look again
        emitEvent('evolution_lock_recovered', { lock: this.path, age_secs: st.age_secs, stale_after_secs: st.stale_after_secs, holder_alive: st.holder_alive });
        continue;
      }
      const holder = [st.operation !== null ? `operation=${st.operation}` : '', st.pid !== null ? `pid=${st.pid}` : '', st.started_at !== null ? `started_at=${st.started_at}` : ''].filter(Boolean).join(' ');
      const staleText = st.stale === true ? '. lock appears stale; re-run with evolution force-unlock --confirm' : '';
      throw new EvolutionError(`another evolution operation is already in progress: ${holder ? holder + ' ' : ''}(lock: ${this.path})${staleText}`, { code: 'evolution_locked' });
    }
  }

  /** Creates the lock file whole (written aside, then hard-linked: EEXIST when it is taken). */
  private createWhole(line: string): void {
    const tmp = `${this.path}.new-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    writeFileSync(tmp, line, { mode: 0o600 });
    try {
      linkSync(tmp, this.path);
    } finally {
      unlinkSync(tmp);
    }
  }

  /** The hold on a lock this process just created with `line`. */
  private held(line: string): HeldLock {
    let released = false;
    const secs = this.policy.heartbeatSecs ?? 0;
    const beat =
      secs > 0
        ? setInterval(() => {
            try {
              const now = new Date();
              if (readFileSync(this.path, 'utf8') === line) utimesSync(this.path, now, now);
            } catch {
              // gone (released or recovered): nothing to refresh
            }
          }, secs * 1000)
        : undefined;
    beat?.unref();
    return {
      release: () => {
        if (released) return;
        released = true;
        if (beat) clearInterval(beat);
        try {
          // Only our own lock: after a force-unlock or a recovery the file may be another holder's.
          if (readFileSync(this.path, 'utf8') === line) unlinkSync(this.path);
        } catch (err) {
          if (!isNotFound(err)) emitEvent('evolution_lock_release_error', { message: (err as Error).message });
        }
      },
    };
  }

  /**
   * Runs `fn` holding the lock for a moment (one audit append), waiting with backoff while
   * another operation holds it (an update holds it for its whole run). After `waitMs` the
   * contention error is thrown and `fn` never ran.
   */
  async holdBriefly<T>(operation: string, fn: () => T, waitMs: number): Promise<T> {
    const deadline = Date.now() + waitMs;
    for (let delay = 5; ; delay = Math.min(delay * 2, 250)) {
      let held: HeldLock | undefined;
      try {
        held = this.acquire(operation);
      } catch (err) {
        if (!isContention(err) || Date.now() >= deadline) throw err;
      }
      if (held) {
        try {
          return fn();
        } finally {
          held.release();
        }
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /**
   * The same for a caller that cannot await (blocking while it waits): gives up after `waitMs`
   * only when an operation holds the lock; another brief hold (an append of a few ms) is waited
   * out for up to ten times as long. Returns false without running `fn` when it gave up.
   */
  holdBrieflySync(operation: string, fn: () => void, waitMs: number): boolean {
    const started = Date.now();
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      let held: HeldLock | undefined;
      try {
        held = this.acquire(operation);
      } catch (err) {
        if (!isContention(err)) throw err;
        const brief = this.status().operation === AUDIT_APPEND_OPERATION;
        if (Date.now() - started >= (brief ? waitMs * 10 : waitMs)) return false;
      }
      if (held) {
        try {
          fn();
          return true;
        } finally {
          held.release();
        }
      }
      sleepSync(delay);
    }
  }

  /** Removes the lock whoever holds it; the report is computed before removal. */
  forceUnlock(): LockStatus {
    const st = this.status();
    let removed = false;
    try {
      unlinkSync(this.path);
      removed = true;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return { ...st, lock_exists: false, force_unlocked: removed };
  }
}
