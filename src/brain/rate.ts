// Rate windows, the queue-activation rule and account choice: pure functions over the state.
// The rule is the original's (`remaining_percent <= threshold` ⇒ hold new work), applied to the
// best account instead of the worst, so one tired account no longer throttles the whole pool.
import type { CodexAccountConfig } from '../config/index.js';
import { quotaRemainingPercent } from './quota.js';
import { freshAccount, type AccountState, type PoolState } from './state.js';

export type GuardReason = 'no_accounts' | 'no_healthy_accounts' | 'rate_limit_guard';

export interface AccountView {
  config: CodexAccountConfig;
  state: AccountState;
  used: number;
  remaining: number;
  remainingPercent: number;
  /** Where remainingPercent came from: the CLI's real quota, or our own request-window count. */
  quotaSource: 'app-server' | 'rollout' | 'request_window';
}

/** Adds missing accounts and drops uses older than the rolling window. Returns true if anything changed. */
export function normalizeAccounts(state: PoolState, accounts: CodexAccountConfig[], now: number, windowMs: number): boolean {
  let changed = false;
  for (const a of accounts) {
    let s = state.accounts[a.id];
    if (!s) {
      s = state.accounts[a.id] = freshAccount();
      changed = true;
    }
    const kept = s.uses.filter((t) => t > now - windowMs && t <= now + windowMs);
    if (kept.length !== s.uses.length) {
      s.uses = kept;
      changed = true;
    }
    if (s.cooldown_until_ms !== null && s.cooldown_until_ms <= now) {
      s.cooldown_until_ms = null;
      changed = true;
    }
    // A real quota figure is good until its window resets (or for one window when it names none).
    if (s.quota && (s.quota.resets_at_ms !== null ? s.quota.resets_at_ms <= now : s.quota.read_at_ms + windowMs <= now)) {
      s.quota = null;
      changed = true;
    }
  }
  return changed;
}

/**
 * `remaining_percent = floor(remaining * 100 / max)` exactly as the original. An account cooling
 * down after a rate-limit answer counts as fully used.
 */
export function view(config: CodexAccountConfig, state: AccountState): AccountView {
  const used = state.cooldown_until_ms !== null ? Math.max(config.maxRequests, state.uses.length) : state.uses.length;
  const remaining = Math.max(0, config.maxRequests - used);
  if (state.quota && state.cooldown_until_ms === null) {
    // ChatGPT plans: the real remaining quota decides (the 25% rule applies to it).
    return { config, state, used, remaining: Math.max(remaining, 1), remainingPercent: quotaRemainingPercent(state.quota), quotaSource: state.quota.source };
  }
  const remainingPercent = config.maxRequests > 0 ? Math.floor((remaining * 100) / config.maxRequests) : 0;
  return { config, state, used, remaining, remainingPercent, quotaSource: 'request_window' };
}

export function views(state: PoolState, accounts: CodexAccountConfig[]): AccountView[] {
  return accounts.map((a) => view(a, state.accounts[a.id] ?? freshAccount()));
}

/** An account may take new work when healthy and its remaining share is above the threshold. */
export function eligible(v: AccountView, thresholdPercent: number): boolean {
  return v.state.healthy && v.remaining > 0 && v.remainingPercent > thresholdPercent;
}

/**
 * Why new work must wait, checked in the original's order: no accounts, none healthy, or even
 * the healthy account with the most remaining quota has `remaining_percent <= threshold`.
 */
export function guardReason(vs: AccountView[], thresholdPercent: number): GuardReason | null {
  if (vs.length === 0) return 'no_accounts';
  const healthy = vs.filter((v) => v.state.healthy);
  if (healthy.length === 0) return 'no_healthy_accounts';
  if (!healthy.some((v) => eligible(v, thresholdPercent))) return 'rate_limit_guard';
  return null;
}

/** The eligible account with the highest remaining share (then most requests left, then config order). */
export function pickAccount(vs: AccountView[], thresholdPercent: number): AccountView | undefined {
  let best: AccountView | undefined;
  for (const v of vs) {
    if (!eligible(v, thresholdPercent)) continue;
    if (!best || v.remainingPercent > best.remainingPercent || (v.remainingPercent === best.remainingPercent && v.remaining > best.remaining)) best = v;
  }
  return best;
}

/**
 * When the rate guard alone holds the queue: the earliest moment an account becomes eligible
 * again (its oldest counted uses leave the window). Undefined when health, not quota, is the block.
 */
export function nextCapacityAt(vs: AccountView[], thresholdPercent: number, windowMs: number): number | undefined {
  let at: number | undefined;
  for (const v of vs) {
    if (!v.state.healthy) continue;
    // Uses that must expire before remaining_percent rises above the threshold.
    // floor(r*100/max) > T  ⇔  r >= ceil((T+1)*max/100).
    const minRemaining = Math.ceil(((thresholdPercent + 1) * v.config.maxRequests) / 100);
    let t: number;
    if (v.state.cooldown_until_ms !== null) t = v.state.cooldown_until_ms;
    else if (v.quotaSource !== 'request_window') {
      if (v.remainingPercent > thresholdPercent) return undefined;
      t = v.state.quota!.resets_at_ms ?? v.state.quota!.read_at_ms + windowMs;
    } else {
      const mustExpire = v.used - (v.config.maxRequests - minRemaining);
      if (mustExpire <= 0) return undefined;
      const sorted = [...v.state.uses].sort((a, b) => a - b);
      t = (sorted[mustExpire - 1] ?? 0) + windowMs;
    }
    if (at === undefined || t < at) at = t;
  }
  return at;
}
