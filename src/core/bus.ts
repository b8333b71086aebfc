// Bounded in-process message bus of turn events (`in:…`, `out:…`, `tool:…`). Subscribers
// (metrics, the ops endpoint) consume it; with none, the overflow policy bounds memory.

export type OverflowPolicy = 'drop_oldest' | 'drop_newest' | 'block';

export interface BusCounters {
  published: number;
  consumed: number;
  dropped: number;
  depth: number;
}

export class MessageBus {
  private readonly items: string[] = [];
  private readonly subscribers = new Set<(item: string) => void>();
  readonly counters: BusCounters = { published: 0, consumed: 0, dropped: 0, depth: 0 };

  constructor(private readonly capacity: number, private readonly overflow: OverflowPolicy) {}

  /** Returns false when the item was dropped (full, drop_newest/block). */
  publish(kind: string, payload: string): boolean {
    const item = `${kind}:${payload}`;
    if (this.subscribers.size > 0) {
      this.counters.published++;
      for (const s of this.subscribers) s(item);
      this.counters.consumed++;
      return true;
    }
    if (this.items.length >= this.capacity) {
      if (this.overflow === 'drop_oldest') {
        this.items.shift();
        this.counters.dropped++;
      } else {
        // `block` cannot block a turn for telemetry's sake; it behaves as drop_newest (documented).
        this.counters.dropped++;
        return false;
      }
    }
    this.items.push(item);
    this.counters.published++;
    this.counters.depth = this.items.length;
    return true;
  }

  consume(): string | undefined {
    const item = this.items.shift();
    if (item !== undefined) this.counters.consumed++;
    this.counters.depth = this.items.length;
    return item;
  }

  /** Delivers the backlog and every later item to `fn`. */
  subscribe(fn: (item: string) => void): () => void {
    for (let item = this.consume(); item !== undefined; item = this.consume()) fn(item);
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }
}
