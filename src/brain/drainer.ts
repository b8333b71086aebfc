// The `serve` side of the pool, its one drainer: drains the queue as soon as quota or health
// allows and runs the periodic health checks. Answers leave through the runtime door's late
// path (session, then the outbox). Idle cost is one small lock-free file read per poll.
import { errorChain } from '../kernel/index.js';
import { emitEvent } from '../observe/index.js';
import type { CodexPool } from './pool.js';

export interface DrainerOptions {
  /** Longest sleep between looks at the state file (work queued by other processes). Default 2000 ms. */
  pollMs?: number;
}

/** Drains at most this many tasks per pass before yielding to the event loop. */
const MAX_PER_PASS = 50;

export class CodexDrainer {
  private stopped = false;
  private wake: (() => void) | undefined;
  private kicked = false;
  private loop: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly pollMs: number;

  constructor(readonly pool: CodexPool, options: DrainerOptions = {}) {
    this.pollMs = options.pollMs ?? 2000;
  }

  start(): void {
    if (this.loop) return;
    this.unsubscribe = this.pool.onWork(() => this.kick());
    this.loop = this.run();
  }

  /** Wakes the loop now (work was queued or an account recovered). */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.wake?.();
    await this.loop;
  }

  /** One pass: due health checks, then the queue while it can run. Returns ms to sleep. */
  async step(): Promise<number> {
    const now = this.pool.clock();
    let work = this.pool.peekWork();
    if (work.healthDueAt <= now) {
      await this.pool.healthcheck(false);
      work = this.pool.peekWork();
    }
    for (let ran = 0; work.canRun && !this.stopped; ran++) {
      if (ran >= MAX_PER_PASS) return 0;
      const r = await this.pool.drainOne();
      if (r.status === 'noop') break;
      if (r.status === 'error') emitEvent('codex_drain_error', { message: r.message });
      work = this.pool.peekWork();
    }
    const later = this.pool.clock();
    const until = Math.min(work.healthDueAt, work.queueDepth > 0 && work.capacityAt !== undefined ? work.capacityAt : Infinity) - later;
    return Math.max(10, Math.min(this.pollMs, until));
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let delay = this.pollMs;
      this.kicked = false;
      try {
        delay = await this.step();
      } catch (err) {
        emitEvent('codex_drainer_error', { message: errorChain(err) });
      }
      if (this.stopped || this.kicked) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}
