// The in-process scheduler for `serve`: one timer armed for the next due time (capped by
// maxSleepMs), re-armed when the state file changes; overdue jobs run once at start.
import { watch, mkdirSync, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { emitEvent } from '../observe/index.js';
import { runTick, nextDue } from './tick.js';
import { flushPendingNotifications } from './notify.js';
import type { PulseService } from './service.js';

export interface SchedulerOptions {
  /** Longest sleep before re-reading the state (default: settings.tickMs). */
  maxSleepMs?: number;
  /** Watch the state file for changes by other processes (default true). */
  watchState?: boolean;
}

export class PulseScheduler {
  private timer: unknown;
  private running: Promise<void> | undefined;
  private followUps = new Set<Promise<void>>();
  private stopped = true;
  private watcher: FSWatcher | undefined;
  private pokeTimer: NodeJS.Timeout | undefined;
  private readonly maxSleepMs: number;
  /** Ticks run so far (tests and /readyz). */
  ticks = 0;

  constructor(private readonly svc: PulseService, private readonly options: SchedulerOptions = {}) {
    this.maxSleepMs = options.maxSleepMs ?? svc.settings.tickMs;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (this.options.watchState !== false) this.watchState();
    this.arm(0);
  }

  isRunning(): boolean {
    return !this.stopped;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.svc.clock.clearTimer(this.timer);
    this.timer = undefined;
    clearTimeout(this.pokeTimer);
    this.watcher?.close();
    this.watcher = undefined;
    await this.running;
    await Promise.allSettled([...this.followUps]);
  }

  /** Resolves when the current tick and its follow-ups (OODA, notifications) are done. */
  async idle(): Promise<void> {
    while (this.running || this.followUps.size > 0) {
      await this.running;
      await Promise.allSettled([...this.followUps]);
    }
  }

  /** Re-computes the next wake from the state (another process may have changed it). */
  poke(): void {
    if (this.stopped || this.running) return;
    let next: number | undefined;
    try {
      next = nextDue(this.svc.view(), this.svc.codexEnabled);
    } catch {
      next = undefined;
    }
    this.armAt(next);
  }

  private armAt(next: number | undefined): void {
    const delay = next === undefined ? this.maxSleepMs : Math.min(this.maxSleepMs, Math.max(0, next - this.svc.now()));
    this.arm(delay);
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
    let next: number | undefined;
    try {
      const out = await runTick(this.svc);
      this.ticks++;
      next = out.nextDueMs;
      const f = out.followUp.then(() => flushPendingNotifications(this.svc)).then(() => undefined, (err) => emitEvent('pulse_error', { message: (err as Error).message }));
      this.followUps.add(f);
      void f.finally(() => this.followUps.delete(f));
    } catch (err) {
      emitEvent('pulse_error', { message: `scheduler tick failed: ${(err as Error).message}` });
      next = this.svc.now() + 1000;
    }
    this.armAt(next);
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
