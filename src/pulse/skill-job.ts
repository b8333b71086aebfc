// Scheduled skill generation: the job action `{ skill_generation: { name, goal, replace } }`
// (named like the OODA action's PendingAction kind and Evolution's audit record). Here: the
// rules for the skill name and the goal, the job spec, decoding from the state file, and one
// run. A run asks Evolution through the same callback as the OODA action `skill_create`, and
// only when asking would not repeat a request already made or refused: a pending approval for
// the skill, or a candidate the operator rejected or let expire since the job asks (Pulse's
// own state), make the run a no-op here; a live skill without `replace`, or a generation
// queued or running, is the callback's to report (`ifNeeded`). Whatever is generated waits
// for the operator's approval before it goes live (the callback's contract).
import { containsKnownSecret } from '../kernel/index.js';
import { normalizeSkillName } from '../skills/index.js';
import { PulseError, validateJobId, type JobSpec } from './jobs.js';
import type { Approval, JobAction, PulseState } from './types.js';

/** The same bound as the `skill_create` tool's goal. */
export const MAX_SKILL_GOAL_CHARS = 400;

export type SkillGenerationAction = { skill_generation: { name: string; goal: string; replace: boolean } };

/** What the job asks Evolution for; `ifNeeded`: report (not fail) when asking would repeat a request. */
export type SkillGenerator = (p: { name: string; goal: string; replace?: boolean; ifNeeded?: boolean }) => Promise<string>;

export function isSkillGeneration(action: JobAction): action is SkillGenerationAction {
  return typeof action === 'object' && 'skill_generation' in action;
}

/** The skills' own name rules (`a-z0-9_-`, one `.js` stripped, ≤ 64 chars), as a Pulse input error. */
export function validateSkillName(raw: string): string {
  try {
    return normalizeSkillName(raw);
  } catch (err) {
    throw new PulseError((err as Error).message);
  }
}

// C0/C1 controls and the bidi overrides (they would disguise the goal in the approval request).
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/** Trimmed goal: not blank, at most MAX_SKILL_GOAL_CHARS, one line without control characters. */
export function validateSkillGoal(raw: string): string {
  const goal = raw.trim();
  if (!goal) throw new PulseError('skill goal is empty');
  if (goal.length > MAX_SKILL_GOAL_CHARS) throw new PulseError(`skill goal is too long (${goal.length} characters, max ${MAX_SKILL_GOAL_CHARS})`);
  if (CONTROL.test(goal)) throw new PulseError('skill goal contains control characters (it must be one line of plain text)');
  return goal;
}

// An API key's shape (`sk-…`), the paste mistake worth catching even when it is not configured here.
const KEY_SHAPE = /\bsk-[A-Za-z0-9_-]{16,}/;

/**
 * A new goal, checked once more: it must not carry a credential (a configured secret's value or
 * an API key's shape), since it is stored in the state file and sent to the model. Only when a
 * job is added: the same file must decode the same way in every process.
 */
export function validateNewSkillGoal(raw: string): string {
  const goal = validateSkillGoal(raw);
  if (containsKnownSecret(goal) || KEY_SHAPE.test(goal)) throw new PulseError('skill goal contains a secret (a key, token or password); it would be stored and sent to the model');
  return goal;
}

export function skillGenerationSpec(input: { id: string; intervalSecs: number; name: string; goal: string; replace: boolean; enabled: boolean }): JobSpec {
  const id = validateJobId(input.id);
  const name = validateSkillName(input.name);
  const goal = validateNewSkillGoal(input.goal);
  return { id, interval_secs: Math.max(1, Math.floor(input.intervalSecs)), action: { skill_generation: { name, goal, replace: input.replace } }, enabled: input.enabled };
}

/**
 * The action from a state file: undefined when it is not a skill generation; `fail` (which
 * throws) when it is one that breaks the rules, so the store drops the job as it drops any
 * invalid entry. A missing `replace` is false.
 */
export function decodeSkillGeneration(v: unknown, fail: (problem: string) => never): SkillGenerationAction | undefined {
  if (!v || typeof v !== 'object' || !('skill_generation' in v)) return undefined;
  const o = (v as { skill_generation: unknown }).skill_generation;
  if (!o || typeof o !== 'object') return fail('skill_generation is not an object');
  const { name, goal, replace } = o as Record<string, unknown>;
  if (typeof name !== 'string' || typeof goal !== 'string') return fail('skill_generation needs a string name and goal');
  if (replace !== undefined && typeof replace !== 'boolean') return fail('skill_generation.replace is not a boolean');
  try {
    return { skill_generation: { name: validateSkillName(name), goal: validateSkillGoal(goal), replace: replace ?? false } };
  } catch (err) {
    return fail(`skill_generation: ${(err as Error).message}`);
  }
}

/** What Pulse's approvals say about a skill, for a job asking for it. */
export interface SkillRequests {
  /** A live pending approval that already asks for the skill (a promotion or an OODA generation). */
  pending?: Approval;
  /** The operator's last word on the skill since the job asks, when it was a rejection or an expiry. */
  refused?: Approval;
}

export function skillRequests(s: Pick<PulseState, 'pending_approvals' | 'approval_history'>, skill: string, askingSince: string | undefined, nowMs: number): SkillRequests {
  const pending = s.pending_approvals.find((a) => {
    const exp = Date.parse(a.expires_at);
    return !(Number.isFinite(exp) && nowMs > exp) && asksFor(a, skill);
  });
  if (pending) return { pending };
  // Without a start time (a hand-written job) every refusal counts: enabling the job resumes it.
  const since = askingSince === undefined ? -Infinity : Date.parse(askingSince);
  for (let i = s.approval_history.length - 1; i >= 0; i--) {
    const a = s.approval_history[i] as Approval;
    if (!asksFor(a, skill)) continue;
    const at = Date.parse(a.decided_at ?? a.expires_at);
    if (!(at > since)) return {};
    return a.status === 'rejected' || a.status === 'expired' ? { refused: a } : {};
  }
  return {};
}

function asksFor(a: Approval, skill: string): boolean {
  const p = a.perform;
  if (p.kind === 'skill_promotion') return p.skill === skill;
  if (p.kind === 'skill_generation') return sameSkill(p.name, skill);
  return false;
}

function sameSkill(raw: string, skill: string): boolean {
  try {
    return normalizeSkillName(raw) === skill;
  } catch {
    return false;
  }
}

/** One run of the job. Without the callback the run says so (an error run), never pretends. */
export async function runSkillGenerationJob(jobId: string, action: SkillGenerationAction, generate: SkillGenerator | undefined, requests: SkillRequests): Promise<{ ok: boolean; message: string }> {
  const { name, goal, replace } = action.skill_generation;
  const { pending, refused } = requests;
  if (refused) {
    const how = refused.status === 'rejected' ? 'rejected' : 'let expire';
    return { ok: true, message: `no-op: paused, the operator ${how} the last request for skill '${name}' (${refused.decided_at ?? refused.expires_at}); 'pulse job enable --id ${jobId}' asks again` };
  }
  if (pending) {
    const what = pending.perform.kind === 'skill_promotion' ? 'a generated candidate' : 'a request';
    return { ok: true, message: `no-op: ${what} for skill '${name}' already waits for the operator's approval (expires ${pending.expires_at})` };
  }
  if (!generate) return { ok: false, message: 'skill generation is not available in this process (Evolution is not wired in)' };
  return { ok: true, message: await generate({ name, goal, replace, ifNeeded: true }) };
}
