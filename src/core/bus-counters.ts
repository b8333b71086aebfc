// The original's MessageBus counters (`stats` → bus {published, consumed, dropped, depth}),
// kept as counters only: the original published every turn event into a bounded FIFO that
// nothing ever consumed, so its numbers are a function of capacity and overflow policy alone.
// Nothing is stored; the numbers are the same.

export type OverflowPolicy = 'drop_oldest' | 'drop_newest' | 'block';

export interface BusCounters {
  published: number;
  consumed: number;
  dropped: number;
  depth: number;
}

export class BusCounter {
  readonly counters: BusCounters = { published: 0, consumed: 0, dropped: 0, depth: 0 };

  constructor(private readonly capacity: number, private readonly overflow: OverflowPolicy) {}

  /** Counts one published event (`in`, `out`, `tool`, `tool_out`, `skill`, `skill_out`). */
  publish(): void {
    const c = this.counters;
    if (c.depth >= this.capacity) {
      c.dropped++;
      // `block` cannot block a turn for telemetry's sake; it behaves as drop_newest (as the original).
      if (this.overflow !== 'drop_oldest') return;
    } else {
      c.depth++;
    }
    c.published++;
  }
}
