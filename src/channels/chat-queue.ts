// Per-chat ordering with cross-chat concurrency: tasks for one chat run one after another, tasks
// for different chats run side by side up to a global bound. (Channels cannot use core's queue.)

export class ChatQueue {
  private readonly tails = new Map<string, Promise<void>>();
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly maxConcurrent: number) {
    if (!(maxConcurrent >= 1)) throw new RangeError('maxConcurrent must be >= 1');
  }

  /** Tasks waiting for a slot (all chats). */
  get depth(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running;
  }

  /** Chats with queued or running work. */
  get chats(): number {
    return this.tails.size;
  }

  /** Queues `task` behind earlier tasks of `key`; the order is fixed when this is called. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.then(async () => {
      await this.acquire();
      try {
        return await task();
      } finally {
        this.release();
      }
    });
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Resolves when every queued task has finished. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }

  private acquire(): Promise<void> {
    if (this.running < this.maxConcurrent) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
