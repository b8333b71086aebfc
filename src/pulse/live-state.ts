// The `serve` scheduler's view of the state: a cached copy re-read only when the file changes
// (a stat per wake), claims made in memory so runs start without I/O, and outcomes written in
// batches (one locked read-modify-write per flush, applied onto the file's current content).
import { statSync } from 'node:fs';
import { applyRuns, claimDue, nextDue, type Claimed, type JobRun, type StateChange } from './tick.js';
import type { PulseService } from './service.js';
import type { PulseState } from './types.js';

export class LiveState {
  private cache: PulseState | undefined;
  private stamp = '';
  private dueOverrides = new Map<string, string>();
  private runs: JobRun[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private firstPendingAt: number | undefined;
  private flushing: Promise<void> = Promise.resolve();

  /**
   * @param flushDelayMs quiet time before outcomes are written (default 250 ms)
   * @param maxDelayMs longest outcomes wait when ticks keep coming (default 2000 ms)
   */
  constructor(
    private readonly svc: PulseService,
    private readonly onChanges: (changes: StateChange[]) => void,
    private readonly flushDelayMs = 250,
    private readonly maxDelayMs = 2000,
  ) {}

  private fileStamp(): string {
    try {
      const st = statSync(this.svc.store.path);
      return `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }

  /** The state, re-read only when another writer changed the file. */
  current(): PulseState {
    const stamp = this.fileStamp();
    if (!this.cache || stamp !== this.stamp) {
      const s = this.svc.store.read();
      this.svc.applyDefaults(s);
      for (const [id, due] of this.dueOverrides) {
        const j = s.jobs.find((x) => x.id === id);
        if (j) j.next_due_at = due;
      }
      this.cache = s;
      this.stamp = stamp;
    }
    return this.cache;
  }

  nextDue(): number | undefined {
    return nextDue(this.current(), this.svc.codexEnabled);
  }

  /** Claims due jobs in memory; the new due times are written with the next flush. */
  claim(now: number): Claimed[] {
    const claimed = claimDue(this.current(), now, this.svc.codexEnabled);
    for (const c of claimed) {
      const j = this.cache?.jobs.find((x) => x.id === c.job.id);
      if (j) this.dueOverrides.set(j.id, j.next_due_at);
    }
    if (claimed.length) this.schedule();
    return claimed;
  }

  record(runs: JobRun[]): void {
    this.runs.push(...runs);
    this.schedule();
  }

  private schedule(): void {
    const now = Date.now();
    this.firstPendingAt ??= now;
    clearTimeout(this.flushTimer);
    const wait = Math.max(0, Math.min(this.flushDelayMs, this.firstPendingAt + this.maxDelayMs - now));
    this.flushTimer = setTimeout(() => void this.flush(), wait);
    this.flushTimer.unref();
  }

  /** Writes claimed due times and outcomes now. */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushing = this.flushing.then(() => this.write()).catch(() => undefined);
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.dueOverrides.size === 0 && this.runs.length === 0) return;
    const overrides = this.dueOverrides;
    const runs = this.runs;
    this.dueOverrides = new Map();
    this.runs = [];
    this.firstPendingAt = undefined;
    try {
      const changes = await this.svc.mutate(
        (s) => {
          for (const [id, due] of overrides) {
            const j = s.jobs.find((x) => x.id === id);
            // Another process may have rescheduled (enable) or claimed it later: keep the later time.
            if (j && !(Date.parse(j.next_due_at) > Date.parse(due))) j.next_due_at = due;
          }
          return applyRuns(s, runs);
        },
        {
          afterWrite: (s) => {
            // Claims made while this write waited for the lock are still pending: keep them visible.
            for (const [id, due] of this.dueOverrides) {
              const j = s.jobs.find((x) => x.id === id);
              if (j) j.next_due_at = due;
            }
            this.cache = s;
            this.stamp = this.fileStamp();
          },
        },
      );
      if (changes.length) this.onChanges(changes);
    } catch (err) {
      // Keep them for the next flush.
      for (const [id, due] of overrides) if (!this.dueOverrides.has(id)) this.dueOverrides.set(id, due);
      this.runs.unshift(...runs);
      this.schedule();
      throw err;
    }
  }
}
