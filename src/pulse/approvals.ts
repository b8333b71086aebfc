// Approval records on the state: unguessable tokens, expiry sweeps, decisions moved into a
// bounded history. Performing the approved action is the service's job (injected executors).
import { randomBytes } from 'node:crypto';
import { PulseError, iso } from './jobs.js';
import { MAX_APPROVAL_HISTORY } from './state-store.js';
import type { Approval, PendingAction, PulseState, Risk } from './types.js';

export const APPROVAL_REASON = 'human approval required for risky action';

/** 128 random bits; the `pa-` prefix keeps the original's look. */
export function newApprovalToken(): string {
  return `pa-${randomBytes(16).toString('hex')}`;
}

export function createApproval(s: PulseState, input: { action: string; risk: Risk; perform: PendingAction; nowMs: number; ttlSecs: number }): Approval {
  const a: Approval = {
    token: newApprovalToken(),
    action: input.action,
    risk: input.risk,
    reason: APPROVAL_REASON,
    created_at: iso(input.nowMs),
    status: 'pending',
    expires_at: iso(input.nowMs + input.ttlSecs * 1000),
    perform: input.perform,
  };
  s.pending_approvals.push(a);
  return a;
}

function archive(s: PulseState, a: Approval): void {
  s.approval_history.push(a);
  if (s.approval_history.length > MAX_APPROVAL_HISTORY) s.approval_history.splice(0, s.approval_history.length - MAX_APPROVAL_HISTORY);
}

/** Moves expired pending approvals into history; returns how many expired. */
export function sweepExpired(s: PulseState, nowMs: number): number {
  const keep: Approval[] = [];
  let n = 0;
  for (const a of s.pending_approvals) {
    const exp = Date.parse(a.expires_at);
    if (Number.isFinite(exp) && nowMs > exp) {
      archive(s, { ...a, status: 'expired', decided_at: iso(nowMs) });
      n++;
    } else keep.push(a);
  }
  s.pending_approvals = keep;
  return n;
}

/**
 * Decides a pending approval: removes it from pending, records it in history and returns it.
 * Unknown → not_found; expired (or already expired) → expired, and an expired one cannot be
 * approved.
 */
export function decideApproval(s: PulseState, rawToken: string, decision: 'approved' | 'rejected', nowMs: number, reason?: string): Approval {
  const token = rawToken.trim();
  sweepExpired(s, nowMs);
  const idx = s.pending_approvals.findIndex((a) => a.token === token);
  if (idx < 0) {
    const past = token ? s.approval_history.find((a) => a.token === token) : undefined;
    if (past?.status === 'expired') throw new PulseError(`approval token '${token}' has expired (at ${past.expires_at})`, 'expired');
    if (past) throw new PulseError(`approval token '${token}' was already ${past.status}`, 'not_found');
    throw new PulseError(`approval token '${token}' was not found`, 'not_found');
  }
  const [pending] = s.pending_approvals.splice(idx, 1);
  const decided: Approval = { ...(pending as Approval), status: decision, decided_at: iso(nowMs) };
  if (decision === 'rejected') {
    const r = reason?.trim();
    decided.reason = r ? r : 'rejected by operator';
    decided.outcome = { status: 'recorded', message: 'rejected; nothing was performed', finished_at: iso(nowMs) };
  }
  archive(s, decided);
  return decided;
}

/** Records what performing an approved action produced (in history). */
export function recordOutcome(s: PulseState, token: string, outcome: Approval['outcome']): Approval | undefined {
  const a = s.approval_history.find((x) => x.token === token);
  if (a && outcome) a.outcome = outcome;
  return a;
}

/** The approval as printed: the original's fields first, ours after. */
export function approvalView(a: Approval): Record<string, unknown> {
  const { token, action, risk, reason, created_at, status, ...rest } = a;
  return { token, action, risk, reason, created_at, status, ...rest };
}
