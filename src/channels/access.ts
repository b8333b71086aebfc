// Who may talk: the allowlist (sender id, chat id or alias such as @username), approved pairings,
// and the DM policy for everyone else: `pairing` hands out a one-time code, `allowlist` refuses
// with a short message, `open` admits anyone. Nobody is silently ignored and strangers never
// reach the model; notices to one stranger are rate-limited so the bot cannot be used to spam.
// Codes are handed out only in direct chats (never posted into a group), a sender gets a bounded
// number of them, and the operator is told when the pending table is full.
import type { DmPolicy } from '../config/index.js';
import { emitEvent } from '../observe/index.js';
import type { ChannelMessage } from './types.js';
import type { PairingStore } from './pairing-store.js';

export type AccessDecision =
  | { decision: 'allow'; via: 'open' | 'allowlist' | 'paired' }
  | { decision: 'pairing'; status: 'issued' | 'pending'; reply: string | undefined }
  | { decision: 'refuse'; reason: 'not_allowed' | 'pairing_full' | 'pairing_limited' | 'group_chat'; reply: string | undefined };

export interface AccessOptions {
  channel: string;
  policy: DmPolicy;
  allowFrom: string[];
  store: PairingStore;
  /** Least time between two refusal notices to one sender. Default 10 min. */
  noticeCooldownMs?: number;
  /** Told (at most once per `fullNoticeMs`) when the pending table is full, e.g. a notification. */
  onPairingFull?: (text: string) => void;
  /** Least time between two "table full" warnings per channel. Default 1 h. */
  fullNoticeMs?: number;
  now?: () => number;
}

/** Ids an allowlist entry may name for this message: sender, chat, aliases. */
export function messageIds(msg: ChannelMessage): string[] {
  return [msg.senderId, msg.chatId, ...(msg.senderAliases ?? [])].filter((x) => x !== '');
}

/** Exact match after trimming; `@username` entries match case-insensitively. */
export function allowlisted(allowFrom: string[], ids: string[]): boolean {
  for (const raw of allowFrom) {
    const entry = raw.trim();
    if (!entry) continue;
    for (const id of ids) {
      if (entry === id) return true;
      if (entry.startsWith('@') && id.startsWith('@') && entry.toLowerCase() === id.toLowerCase()) return true;
    }
  }
  return false;
}

function minutes(iso: string, now: number): number {
  return Math.max(1, Math.round((Date.parse(iso) - now) / 60_000));
}

export class AccessControl {
  readonly channel: string;
  readonly policy: DmPolicy;
  private readonly allowFrom: string[];
  private readonly store: PairingStore;
  private readonly cooldownMs: number;
  private readonly now: () => number;
  private readonly noticed = new Map<string, number>();
  private readonly onPairingFull: ((text: string) => void) | undefined;
  private readonly fullNoticeMs: number;
  private lastFullNotice: number | undefined;

  constructor(options: AccessOptions) {
    this.channel = options.channel;
    this.policy = options.policy;
    this.allowFrom = options.allowFrom.map((s) => s.trim()).filter(Boolean);
    this.store = options.store;
    this.cooldownMs = options.noticeCooldownMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
    this.onPairingFull = options.onPairingFull;
    this.fullNoticeMs = options.fullNoticeMs ?? 60 * 60_000;
  }

  async check(msg: ChannelMessage): Promise<AccessDecision> {
    if (this.policy === 'open') return { decision: 'allow', via: 'open' };
    const ids = messageIds(msg);
    if (allowlisted(this.allowFrom, ids)) return { decision: 'allow', via: 'allowlist' };
    // Approvals are honoured under every policy, and read fresh: `pairing approve` takes effect
    // in a running channel without a restart.
    if (this.store.isApproved(this.channel, ids)) return { decision: 'allow', via: 'paired' };
    if (this.policy === 'allowlist') {
      return { decision: 'refuse', reason: 'not_allowed', reply: this.notice(msg.senderId, 'Sorry, this assistant is private and you are not on its allowlist.') };
    }
    // A code posted into a group could be read (and used) by anyone in it.
    if (msg.isGroup) {
      return { decision: 'refuse', reason: 'group_chat', reply: this.notice(msg.senderId, 'Sorry, I only talk to people I know. To ask for access, send me a direct (private) message.') };
    }
    const req = await this.store.request(this.channel, msg.senderId, msg.chatId, (msg.senderAliases ?? []).filter((a) => a !== msg.senderId));
    const now = this.now();
    if (req.status === 'limited') {
      return { decision: 'refuse', reason: 'pairing_limited', reply: this.notice(msg.senderId, 'Sorry, you have asked for too many pairing codes. Please try again tomorrow, or ask the operator directly.') };
    }
    if (req.status === 'full') {
      this.tableFull(now);
      return { decision: 'refuse', reason: 'pairing_full', reply: this.notice(msg.senderId, 'Sorry, this assistant is not accepting new contacts right now. Please try again later.') };
    }
    if (req.status === 'issued') {
      const reply = `Hi! I don't know you yet. Your pairing code is ${req.code} (valid for ${minutes(req.expiresAt, now)} minutes). Ask the operator to run: rusty-pinch pairing approve ${this.channel} ${req.code}`;
      return { decision: 'pairing', status: 'issued', reply };
    }
    const reply = req.remind ? `Your pairing request is still waiting for the operator's approval (code ${req.code}).` : undefined;
    return { decision: 'pairing', status: 'pending', reply };
  }

  /** The pending table is full: an event every time, the operator told once per period. */
  private tableFull(now: number): void {
    const warn = this.lastFullNotice === undefined || now - this.lastFullNotice >= this.fullNoticeMs;
    emitEvent('pairing_full', { channel: this.channel, operator_notified: warn && this.onPairingFull !== undefined });
    if (!warn) return;
    this.lastFullNotice = now;
    const text = `Rusty Pinch: the ${this.channel} pairing table is full; new contacts are turned away. Review the requests with: rusty-pinch pairing list (approve with: rusty-pinch pairing approve ${this.channel} <code>).`;
    try {
      this.onPairingFull?.(text);
    } catch {
      // a failing notifier must not refuse the message differently
    }
  }

  /** `text` unless this sender was told something in the last cooldown period. */
  private notice(sender: string, text: string): string | undefined {
    const now = this.now();
    const last = this.noticed.get(sender);
    if (last !== undefined && now - last < this.cooldownMs) return undefined;
    if (this.noticed.size > 10_000) this.noticed.clear();
    this.noticed.set(sender, now);
    return text;
  }
}
