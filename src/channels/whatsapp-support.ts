// Small pieces of the WhatsApp bridge client: the bounded outbound queue, bridge URL checks (the duplicate cache,
// backoff and sleep are the kernel's, re-exported).

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

/** The kernel's duplicate cache and backoff, under the names this module's callers use. */
export { RecentKeys as RecentIds, backoffDelay } from '../kernel/index.js';

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
