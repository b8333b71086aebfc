// The one duplicate cache: the last `capacity` keys seen, oldest forgotten first. The channel
// runner drops re-delivered platform messages with it; the WhatsApp client drops echoed ids.

export class RecentKeys {
  private readonly keys = new Set<string>();
  constructor(private readonly capacity: number) {}

  /** True when `key` was already seen; otherwise remembers it. */
  checkAndAdd(key: string): boolean {
    if (this.keys.has(key)) return true;
    this.keys.add(key);
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.values().next().value;
      if (oldest !== undefined) this.keys.delete(oldest);
    }
    return false;
  }
}
