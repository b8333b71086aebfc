// Pulse settings: approvals, auto-allowed actions, notifications.
import type { EnvReader } from './env-reader.js';

export interface PulseSettings {
  /** Whole-word action keywords that skip approval; empty by default (nothing risky auto-allowed). */
  autoAllowActions: string[];
  approvalTtlSecs: number;
  /** Where Pulse notifies the operator, e.g. `telegram:<chat id>`. */
  notify: string[];
  /** Scheduler tick granularity inside `serve`. */
  tickMs: number;
}

export function loadPulseSettings(r: EnvReader): PulseSettings {
  return {
    autoAllowActions: r.csv('RUSTY_PINCH_PULSE_AUTO_ALLOW_ACTIONS').map((s) => s.toLowerCase()),
    approvalTtlSecs: r.int('RUSTY_PINCH_PULSE_APPROVAL_TTL_SECS', 3600, { min: 1 }),
    notify: r.csv('RUSTY_PINCH_PULSE_NOTIFY'),
    tickMs: r.int('RUSTY_PINCH_PULSE_TICK_MS', 1000, { min: 10, max: 600_000 }),
  };
}
