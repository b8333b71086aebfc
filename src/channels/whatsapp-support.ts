// Small pieces of the WhatsApp bridge client: the bounded outbound queue, the duplicate-id
// memory, reconnect backoff with jitter, bridge URL checks and an abortable sleep.

export interface QueuedReply {
  chatId: string;
  text: string;
  at?: number;
}

/** Replies held while the bridge is away: bounded, oldest first, each with a time to live. */
export class OutboundQueue {
  private items: Array<Required<QueuedReply>> = [];
  constructor(
    readonly limit: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** False when the queue is full (the caller reports the reply as not sent). */
  push(reply: QueuedReply): boolean {
    this.dropExpired();
    if (this.items.length >= this.limit) return false;
    this.items.push({ chatId: reply.chatId, text: reply.text, at: reply.at ?? this.now() });
    return true;
  }

  peek(): QueuedReply | undefined {
    return this.items[0];
  }

  shift(): QueuedReply | undefined {
    return this.items.shift();
  }

  /** Removes and returns replies older than the TTL. */
  dropExpired(): QueuedReply[] {
    const cutoff = this.now() - this.ttlMs;
    const expired = this.items.filter((r) => r.at < cutoff);
    if (expired.length) this.items = this.items.filter((r) => r.at >= cutoff);
    return expired;
  }
}

/** The last `capacity` message ids seen (insertion-ordered LRU). */
export class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity: number) {}

  /** True when `id` was already seen; otherwise remembers it. */
  checkAndAdd(id: string): boolean {
    if (this.ids.has(id)) return true;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
    return false;
  }
}

/** Capped exponential backoff with "equal jitter": half fixed, half random. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(exp / 2 + (exp / 2) * Math.min(1, Math.max(0, random())));
}

/** Checks a bridge URL (ws:// or wss:// with a host) and gives a form safe to log (no userinfo, no query). */
export function describeUrl(raw: string): { ok: true; safe: string } | { ok: false; error: string } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return { ok: false, error: 'not a URL (expected ws://host:port or wss://host:port)' };
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') return { ok: false, error: `scheme '${u.protocol.replace(/:$/, '')}' is not ws or wss` };
  if (!u.hostname) return { ok: false, error: 'missing host' };
  return { ok: true, safe: `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}` };
}

/** The kernel's abortable sleep, re-exported for this module's callers. */
export { sleep } from '../kernel/index.js';
