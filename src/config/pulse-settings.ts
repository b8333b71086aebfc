// Pulse settings: approvals, auto-allowed actions, notifications, scheduler and health checks.
import type { EnvReader } from './env-reader.js';

export interface PulseSettings {
  /** What skips approval: structural names (`http:post`, `skill:<name>`, `tool:<name>`), `*`, or
   *  whole-word keywords for free-text actions; empty by default (nothing risky auto-allowed). */
  autoAllowActions: string[];
  approvalTtlSecs: number;
  /** Where Pulse notifies the operator, e.g. `telegram:<chat id>`. */
  notify: string[];
  /**
   * Longest the `serve` scheduler sleeps before re-reading the state file (it also wakes at
   * the next due time and when the file changes). Default 30 s.
   */
  tickMs: number;
  /** Lets HTTP health checks (and approved HTTP calls) reach loopback/private hosts. Default false. */
  allowPrivateHealthchecks: boolean;
  /**
   * The operator's own chats (`<channel>:<chat id>`, e.g. `telegram:123`): only there do
   * `/approve`, `/reject` and `/pending` decide approvals. Empty: approvals only from the CLI.
   */
  operatorChats?: string[];
  /** Bound on the model's OODA assessment; the rule is used when it passes. Default 20 s. */
  assessTimeoutSecs: number;
}

export function loadPulseSettings(r: EnvReader): PulseSettings {
  return {
    autoAllowActions: r.csv('RUSTY_PINCH_PULSE_AUTO_ALLOW_ACTIONS').map((s) => s.toLowerCase()),
    approvalTtlSecs: r.int('RUSTY_PINCH_PULSE_APPROVAL_TTL_SECS', 3600, { min: 1 }),
    notify: r.csv('RUSTY_PINCH_PULSE_NOTIFY'),
    tickMs: r.int('RUSTY_PINCH_PULSE_TICK_MS', 30_000, { min: 10, max: 600_000 }),
    allowPrivateHealthchecks: r.bool('RUSTY_PINCH_PULSE_HEALTHCHECK_ALLOW_PRIVATE', false),
    operatorChats: operatorChats(r),
    assessTimeoutSecs: r.int('RUSTY_PINCH_PULSE_ASSESS_TIMEOUT_SECS', 20, { min: 1, max: 600 }),
  };
}

/** `channel:chat` entries; a malformed one is dropped and reported (doctor), never half-trusted. */
function operatorChats(r: EnvReader): string[] {
  const out: string[] = [];
  for (const t of r.csv('RUSTY_PINCH_OPERATOR_CHATS')) {
    if (/^(telegram|whatsapp):[^\s:]+$/.test(t)) out.push(t);
    else r.issue('RUSTY_PINCH_OPERATOR_CHATS', t, 'expected <telegram|whatsapp>:<chat id>', 'entry ignored');
  }
  return out;
}
