// Runs tasks in order per key (one session's or chat's work never overlaps) while different
// keys run concurrently, up to a global bound. Used by the runtime (sessions) and the channel
// runner (chats).

export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly maxConcurrent: number) {
    if (!(maxConcurrent >= 1)) throw new RangeError('maxConcurrent must be >= 1');
  }

  /** Keys with queued or running work. */
  get keys(): number {
    return this.tails.size;
  }

  /** Number of tasks waiting for a slot (all keys). */
  get depth(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running;
  }

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
    return new Promise((resolve) => this.waiting.push(() => resolve()));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
