// The one drainer of the outbox, run by the long-running process (`serve`, or a foreground
// channel): wakes on an enqueue in this process, else polls the file cheaply (other processes
// enqueue too), delivers due records in order through the one delivery function, and settles
// them: delivered → gone, failed → retried with backoff, failed too often → dropped with an event.
// A pass holds a drain lock, so two long-running processes on one workspace (serve and a
// foreground channel) never send the same record twice; the one without the lock skips the pass.
import { backoffDelay, errorChain, type Component } from '../kernel/index.js';
import { emitEvent } from '../observe/index.js';
import type { Outbox, OutboxRecord, Settlement } from './outbox.js';
import { withFileLock } from './lock.js';

export interface OutboxDrainerOptions {
  /** The one delivery function: sends a record to its chat; rejects when it was not sent. */
  deliver(record: OutboxRecord): Promise<void>;
  /** Channels this process delivers to (others' records stay for the process that has them). */
  accepts?(channel: string): boolean;
  /** Longest sleep between looks at the file. Default 1000 ms. */
  pollMs?: number;
  /** Failed attempts before a record is dropped. Default 8. */
  maxAttempts?: number;
  /** Retry backoff base and cap. Defaults 2 s and 5 min. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  now?: () => number;
}

export class OutboxDrainer implements Component {
  readonly name = 'outbox';
  private stopped = true;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private kicked = false;
  private unsubscribe: (() => void) | undefined;
  private readonly now: () => number;

  constructor(private readonly outbox: Outbox, private readonly options: OutboxDrainerOptions) {
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    if (this.loop) return;
    this.stopped = false;
    this.unsubscribe = this.outbox.onEnqueue(() => this.kick());
    this.loop = this.run();
  }

  ready(): boolean {
    return !this.stopped;
  }

  /** Finishes the pass in flight (its deliveries are settled), then stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /** One pass; returns ms until the next record is due (or the poll interval). */
  async pass(): Promise<number> {
    const poll = this.options.pollMs ?? 1000;
    if (!this.outbox.hasEntries()) return poll;
    try {
      return await withFileLock(`${this.outbox.path}.drain`, () => this.passLocked(poll), { waitMs: 0, staleMs: 30_000 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ELOCKED') return poll; // another process drains now
      throw err;
    }
  }

  private async passLocked(poll: number): Promise<number> {
    const records = await this.outbox.list();
    const decisions = new Map<string, Settlement>();
    const held = new Set<string>(); // chats with an earlier record still waiting: keep their order
    let nextDue = Infinity;
    for (const r of records) {
      const chat = `${r.channel}:${r.chat_id}`;
      if (this.options.accepts && !this.options.accepts(r.channel)) continue;
      if (held.has(chat) || r.next_at > this.now()) {
        held.add(chat);
        nextDue = Math.min(nextDue, r.next_at);
        continue;
      }
      const settled = await this.deliverOne(r);
      decisions.set(r.id, settled);
      if (settled.status === 'retry') {
        held.add(chat);
        nextDue = Math.min(nextDue, settled.nextAt);
      }
      if (this.stopped) break;
    }
    await this.outbox.settle(decisions);
    return Math.max(10, Math.min(poll, nextDue - this.now()));
  }

  private async deliverOne(r: OutboxRecord): Promise<Settlement> {
    const fields = { id: r.id, kind: r.kind, channel: r.channel, chat_id: r.chat_id, request_id: r.request_id };
    try {
      await this.options.deliver(r);
      emitEvent('outbox_delivered', { ...fields, attempts: r.attempts + 1 });
      return { status: 'delivered' };
    } catch (err) {
      const error = errorChain(err);
      if (r.attempts + 1 >= (this.options.maxAttempts ?? 8)) {
        emitEvent('outbox_dropped', { ...fields, attempts: r.attempts + 1, error });
        return { status: 'dropped', error };
      }
      const delay = backoffDelay(r.attempts, this.options.retryBaseMs ?? 2000, this.options.retryMaxMs ?? 300_000);
      emitEvent('outbox_retry', { ...fields, attempts: r.attempts + 1, retry_in_ms: delay, error });
      return { status: 'retry', error, nextAt: this.now() + delay };
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.kicked = false;
      let delay = this.options.pollMs ?? 1000;
      try {
        delay = await this.pass();
      } catch (err) {
        emitEvent('outbox_error', { message: errorChain(err) });
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
