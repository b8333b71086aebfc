// Who may talk: the allowlist (sender id, chat id or alias such as @username), approved pairings,
// and the DM policy for everyone else: `pairing` hands out a one-time code, `allowlist` refuses
// with a short message, `open` admits anyone. Nobody is silently ignored and strangers never
// reach the model; notices to one stranger are rate-limited so the bot cannot be used to spam.
import type { DmPolicy } from '../config/index.js';
import type { ChannelMessage } from './types.js';
import type { PairingStore } from './pairing-store.js';

export type AccessDecision =
  | { decision: 'allow'; via: 'open' | 'allowlist' | 'paired' }
  | { decision: 'pairing'; status: 'issued' | 'pending'; reply: string | undefined }
  | { decision: 'refuse'; reason: 'not_allowed' | 'pairing_full'; reply: string | undefined };

export interface AccessOptions {
  channel: string;
  policy: DmPolicy;
  allowFrom: string[];
  store: PairingStore;
  /** Least time between two refusal notices to one sender. Default 10 min. */
  noticeCooldownMs?: number;
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

  constructor(options: AccessOptions) {
    this.channel = options.channel;
    this.policy = options.policy;
    this.allowFrom = options.allowFrom.map((s) => s.trim()).filter(Boolean);
    this.store = options.store;
    this.cooldownMs = options.noticeCooldownMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
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
    const req = await this.store.request(this.channel, msg.senderId, msg.chatId, (msg.senderAliases ?? []).filter((a) => a !== msg.senderId));
    const now = this.now();
    if (req.status === 'full') {
      return { decision: 'refuse', reason: 'pairing_full', reply: this.notice(msg.senderId, 'Sorry, this assistant is not accepting new contacts right now. Please try again later.') };
    }
    if (req.status === 'issued') {
      const reply = `Hi! I don't know you yet. Your pairing code is ${req.code} (valid for ${minutes(req.expiresAt, now)} minutes). Ask the operator to run: rusty-pinch pairing approve ${this.channel} ${req.code}`;
      return { decision: 'pairing', status: 'issued', reply };
    }
    const reply = req.remind ? `Your pairing request is still waiting for the operator's approval (code ${req.code}).` : undefined;
    return { decision: 'pairing', status: 'pending', reply };
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
