// The in-process scheduler for `serve`: one timer armed for the next due time (capped by
// maxSleepMs), re-armed when the state file changes; overdue jobs run once at start. Claims
// are made in memory (runs start without I/O) and outcomes are written in batches.
import { watch, mkdirSync, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { emitEvent } from '../observe/index.js';
import { handleChanges, runAll, type StateChange } from './tick.js';
import { flushPendingNotifications } from './notify.js';
import { LiveState } from './live-state.js';
import type { PulseService } from './service.js';

export interface SchedulerOptions {
  /** Longest sleep before re-checking the state (default: settings.tickMs). */
  maxSleepMs?: number;
  /** Watch the state file for changes by other processes (default true). */
  watchState?: boolean;
}

export class PulseScheduler {
  private timer: unknown;
  private running: Promise<void> | undefined;
  private readonly inflight = new Set<Promise<void>>();
  private readonly runningJobs = new Set<string>();
  private readonly followUps = new Set<Promise<void>>();
  private stopped = true;
  private watcher: FSWatcher | undefined;
  private pokeTimer: NodeJS.Timeout | undefined;
  private readonly maxSleepMs: number;
  private readonly live: LiveState;
  /** Wakes that started at least one job (tests and benchmarks). */
  ticks = 0;

  constructor(private readonly svc: PulseService, private readonly options: SchedulerOptions = {}) {
    this.maxSleepMs = options.maxSleepMs ?? svc.settings.tickMs;
    this.live = new LiveState(svc, (changes) => this.onChanges(changes));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (this.options.watchState !== false) this.watchState();
    this.track(this.followUps, flushPendingNotifications(this.svc).then(() => undefined));
    this.arm(0);
  }

  isRunning(): boolean {
    return !this.stopped;
  }

  /** Stops timers, waits for running jobs, writes their outcomes and follow-ups. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.svc.clock.clearTimer(this.timer);
    this.timer = undefined;
    clearTimeout(this.pokeTimer);
    this.watcher?.close();
    this.watcher = undefined;
    await this.idle();
  }

  /** Resolves when running jobs, their recorded outcomes and follow-ups (OODA, notifications) are done. */
  async idle(): Promise<void> {
    for (let i = 0; i < 20; i++) {
      await this.running;
      await Promise.allSettled([...this.inflight]);
      await this.live.flush();
      await Promise.allSettled([...this.followUps]);
      if (!this.running && this.inflight.size === 0 && this.followUps.size === 0) return;
    }
  }

  /** Re-arms from the state (another process may have changed it) and sends its pending notifications. */
  poke(): void {
    if (this.stopped || this.running) return;
    this.track(this.followUps, flushPendingNotifications(this.svc).then(() => undefined));
    this.armNext();
  }

  private armNext(): void {
    let next: number | undefined;
    try {
      next = this.live.nextDue();
    } catch {
      next = this.svc.now() + 1000;
    }
    this.arm(next === undefined ? this.maxSleepMs : Math.min(this.maxSleepMs, Math.max(0, next - this.svc.now())));
  }

  private arm(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer !== undefined) this.svc.clock.clearTimer(this.timer);
    this.timer = this.svc.clock.setTimer(() => {
      this.timer = undefined;
      this.running = this.wake().finally(() => {
        this.running = undefined;
      });
    }, delayMs);
    (this.timer as { unref?: () => void })?.unref?.();
  }

  private async wake(): Promise<void> {
    try {
      // A job still running from its previous turn skips this one (no overlap).
      const claimed = this.live.claim(this.svc.now()).filter((c) => !this.runningJobs.has(c.job.id));
      if (claimed.length > 0) {
        this.ticks++;
        for (const c of claimed) this.runningJobs.add(c.job.id);
        this.track(
          this.inflight,
          runAll(this.svc, claimed)
            .then((runs) => this.live.record(runs))
            .finally(() => {
              for (const c of claimed) this.runningJobs.delete(c.job.id);
            }),
        );
      }
    } catch (err) {
      emitEvent('pulse_error', { message: `scheduler tick failed: ${(err as Error).message}` });
    }
    this.armNext();
  }

  private onChanges(changes: StateChange[]): void {
    this.track(this.followUps, handleChanges(this.svc, changes));
  }

  private track(set: Set<Promise<void>>, p: Promise<void>): void {
    const q = p.catch((err) => emitEvent('pulse_error', { message: (err as Error).message }));
    set.add(q);
    void q.finally(() => set.delete(q));
  }

  private watchState(): void {
    const path = this.svc.store.path;
    try {
      mkdirSync(dirname(path), { recursive: true });
      const name = basename(path);
      this.watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
        if (file !== name) return;
        clearTimeout(this.pokeTimer);
        this.pokeTimer = setTimeout(() => this.poke(), 50);
        this.pokeTimer.unref();
      });
      this.watcher.on('error', () => undefined);
    } catch {
      // No watcher (unsupported fs): the maxSleepMs cap still picks up changes.
    }
  }
}
