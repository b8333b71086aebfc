// One skill generation: ask the model (through the runtime door, recorded as a turn), stage the
// candidate, validate it in the sandbox, feed each failure back with the exact error and code up
// to the attempt limit, then promote atomically — or, for a candidate that posts data or is
// tagged risky, ask the operator first. Every step emits one `evolution_skill` event line; the
// outcome lands in telemetry (`evolution.last_skill_*`) and the audit log.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { writeJsonAtomic } from '../../store/index.js';
import { join } from 'node:path';
import { AppError, ValidationError, errorChain, type AgentTask, type Reply } from '../../kernel/index.js';
import { emitEvent } from '../../observe/index.js';
import { parseSkillMeta } from '../../skills/index.js';
import type { SkillSettings } from '../../config/index.js';
import { correctionRequest, skillInstructions, skillRequest } from './contract.js';
import { parseCandidate } from './reply.js';
import { validateCandidate, type SkillSandbox } from './validate.js';
import { SkillLibrary } from './library.js';
import { appendSkillAudit, generationsToday } from './audit.js';
import { SkillBusyError, claimGeneration, earlierRunningGenerations, refuseIfQueued } from './claim.js';
import type { HeldLock } from '../lock.js';

export const GENERATION_SESSION = 'evolution:skills';
export const MAX_ATTEMPTS_LIMIT = 10;

export interface ApprovalRequest {
  skill: string;
  goal: string;
  replace: boolean;
  reasons: string[];
  summary: string;
  stagedPath: string;
}

export interface GenerationDeps {
  /** The runtime door (non-chat model work). */
  door: { agent(task: AgentTask): Promise<Reply> };
  sandbox: SkillSandbox;
  skillsDir: string;
  workspace: string;
  limits: SkillSettings;
  /** The configuration's variables (the audit key of the evolution chain). */
  env?: Record<string, string | undefined>;
  /** Which model answers: `codex_pool` or `provider:<name>`. */
  model: string;
  /** Keeps `evolution.last_skill_*` (merged into the evolution section). */
  telemetry?: { setSection(name: 'evolution', value: Record<string, unknown> | null): void; read(): { evolution: Record<string, unknown> | null } };
  /** A live approval request already asking to promote a candidate of the skill (its staged files must stay). */
  pendingPromotion?: (skill: string) => Promise<{ token: string; expires_at: string } | null>;
  /** Asks the operator before a risky promotion; without it a risky candidate is not promoted. */
  requestApproval?: (req: ApprovalRequest) => Promise<{ token: string }>;
}

export interface GenerationInput {
  name: string;
  goal: string;
  replace?: boolean;
  maxAttempts?: number;
  /** Who asked: `cli`, `tool`, `pulse`. */
  origin?: string;
  /** The operator approves whatever the code does (model-proposed skills). */
  requireApproval?: boolean;
  signal?: AbortSignal;
}

export type GenerationStatus = 'promoted' | 'failed' | 'queued' | 'pending_approval';

export interface GenerationResult {
  status: GenerationStatus;
  skill: string;
  goal: string;
  model: string;
  attempts: number;
  max_attempts: number;
  staged_path: string | null;
  promoted_path: string | null;
  replaced_path: string | null;
  samples: string[];
  outputs: Array<{ args: string; output: string }>;
  approval_token: string | null;
  risk_reasons: string[];
  request_ids: string[];
  error: string | null;
}

/** Why a candidate needs a human before it goes live (empty: it does not). */
export function riskReasons(code: string): string[] {
  const out: string[] = [];
  if (/\bhttp_post\s*\(/.test(code)) out.push('posts data (http_post)');
  if (parseSkillMeta(code).risky) out.push('tagged @risky');
  return out;
}

/** A short view of the code for the approval request: description, host calls, URLs, size. */
export function codeSummary(code: string): string {
  const meta = parseSkillMeta(code);
  const calls = [...new Set([...code.matchAll(/\b(http_get|http_post|log_info|time_now)\s*\(/g)].map((m) => m[1]))];
  const urls = [...new Set([...code.matchAll(/https?:\/\/[^\s'"`)]+/g)].map((m) => m[0]))].slice(0, 5);
  const lines = code.split('\n').length;
  return [`description: ${meta.description ?? '(none)'}`, `host calls: ${calls.join(', ') || '(none)'}`, `urls: ${urls.join(', ') || '(none in the code)'}`, `size: ${lines} lines, ${Buffer.byteLength(code)} bytes`].join('\n');
}

export async function generateSkill(deps: GenerationDeps, input: GenerationInput): Promise<GenerationResult> {
  const goal = input.goal.trim();
  if (input.name.trim() === '') throw new ValidationError('skill name is empty');
  if (goal === '') throw new ValidationError('goal is empty');
  const maxAttempts = input.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS_LIMIT) throw new ValidationError(`--max-attempts must be an integer from 1 to ${MAX_ATTEMPTS_LIMIT}`);
  const lib = new SkillLibrary(deps.skillsDir, input.name);
  const skill = lib.name;
  // One generation of a name at a time across processes: the checks below run under the claim.
  const claim = claimGeneration(lib, input.origin ?? 'cli');
  try {
    const budget = deps.limits.generationDailyBudget ?? 10;
    // Recorded generations of today, and those of other skills running now that claimed first.
    const used = generationsToday(deps.workspace) + earlierRunningGenerations(lib);
    if (budget === 0) throw new AppError('evolution_budget', 'skill generation is turned off (RUSTY_PINCH_EVOLUTION_SKILL_DAILY_BUDGET=0)');
    if (used >= budget) throw new AppError('evolution_budget', `the daily skill generation budget is used up (${used} of ${budget} today, UTC); raise RUSTY_PINCH_EVOLUTION_SKILL_DAILY_BUDGET or wait until tomorrow`);
    if (lib.exists() && !input.replace) throw new ValidationError(`skill '${skill}' already exists (use --replace to replace it; the old version is kept)`);
    refuseIfQueued(lib);
    // A new candidate would replace the staged one the operator is asked about.
    const waiting = await deps.pendingPromotion?.(skill);
    if (waiting) throw new SkillBusyError(skill, `a candidate of skill '${skill}' already waits for the operator's approval (token ${waiting.token}, expires ${waiting.expires_at})`, `approve it (pulse approve --token ${waiting.token}) or reject it (pulse reject --token ${waiting.token}) first`);

    const result: GenerationResult = { status: 'failed', skill, goal, model: deps.model, attempts: 0, max_attempts: maxAttempts, staged_path: null, promoted_path: null, replaced_path: null, samples: [], outputs: [], approval_token: null, risk_reasons: [], request_ids: [], error: null };
    emitEvent('evolution_skill', { skill, step: 'start', attempt: null, status: 'ok' });
    return await attemptLoop(deps, { ...input, goal, maxAttempts }, lib, result, skillRequest(skill, goal), undefined, claim);
  } finally {
    claim.release();
  }
}

interface QueuedState {
  request_id: string;
  goal: string;
  attempt: number;
  max_attempts: number;
  replace: boolean;
  origin: string;
  require_approval: boolean;
  prompt: string;
}

/** The request ids of the generations waiting for a queued model answer. */
export function queuedGenerationRequests(skillsDir: string): string[] {
  const staging = join(skillsDir, 'staging');
  let names: string[];
  try {
    names = readdirSync(staging);
  } catch {
    return [];
  }
  const ids: string[] = [];
  for (const name of names) {
    try {
      const q = JSON.parse(readFileSync(join(staging, name, 'queued.json'), 'utf8')) as Partial<QueuedState>;
      if (typeof q.request_id === 'string') ids.push(q.request_id);
    } catch {
      // not queued (or a torn file: the late path skips it too)
    }
  }
  return ids;
}

/**
 * A queued model answer arrived (Codex pool, later): if it belongs to a queued generation,
 * the pipeline continues from that attempt. Returns null when the answer is not one of ours.
 */
export async function resumeQueuedGeneration(deps: GenerationDeps, reply: { requestId: string; text: string; failed?: boolean }): Promise<GenerationResult | null> {
  const staging = join(deps.skillsDir, 'staging');
  let names: string[];
  try {
    names = readdirSync(staging);
  } catch {
    return null;
  }
  for (const name of names) {
    const file = join(staging, name, 'queued.json');
    let q: QueuedState;
    try {
      q = JSON.parse(readFileSync(file, 'utf8')) as QueuedState;
    } catch {
      continue;
    }
    if (q.request_id !== reply.requestId) continue;
    const lib = new SkillLibrary(deps.skillsDir, name);
    const claim = await claimForResume(lib, file);
    if (!claim) return null;
    try {
      // Claimed by rename: of two resumers (the late path, the start-up scan) only one continues.
      try {
        renameSync(file, `${file}.resumed`);
      } catch {
        return null;
      }
      rmSync(`${file}.resumed`, { force: true });
      return await resumeClaimed(deps, reply, q, lib, claim);
    } finally {
      claim.release();
    }
  }
  return null;
}

/**
 * The skill's claim for a resume. The generation that queued releases its claim right after
 * writing queued.json, so a busy claim is that moment (waited out) or another resumer of the
 * same answer (then null: that one continues).
 */
async function claimForResume(lib: SkillLibrary, queuedFile: string): Promise<HeldLock | null> {
  for (let delay = 10; ; delay *= 2) {
    try {
      return claimGeneration(lib, 'resume');
    } catch (err) {
      if (!(err instanceof SkillBusyError) || delay > 1000) {
        if (!existsSync(queuedFile)) return null; // another resumer took it

        emitEvent('warning', { message: `a queued generation of skill '${lib.name}' was not resumed here: ${errorChain(err)}` });
        return null;
      }
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

async function resumeClaimed(deps: GenerationDeps, reply: { requestId: string; text: string; failed?: boolean }, q: QueuedState, lib: SkillLibrary, claim: HeldLock): Promise<GenerationResult> {
  const result: GenerationResult = { status: 'failed', skill: lib.name, goal: q.goal, model: deps.model, attempts: q.attempt - 1, max_attempts: q.max_attempts, staged_path: null, promoted_path: null, replaced_path: null, samples: [], outputs: [], approval_token: null, risk_reasons: [], request_ids: [reply.requestId], error: null };
  const input = { name: lib.name, goal: q.goal, replace: q.replace, maxAttempts: q.max_attempts, origin: `resumed:${q.origin}`, requireApproval: q.require_approval };
  if (reply.failed) {
    // The pool gave the request up (its retries ran out): there is no code to validate.
    result.attempts = q.attempt;
    result.error = 'the queued model request failed for good (the Codex pool gave up on it); nothing was generated';
    emitEvent('evolution_skill', { skill: lib.name, step: 'generate', attempt: result.attempts, status: 'error', error: result.error });
    return finish(deps, input, result);
  }
  return attemptLoop(deps, input, lib, result, q.prompt, reply.text, claim);
}

async function attemptLoop(deps: GenerationDeps, input: GenerationInput & { maxAttempts: number }, lib: SkillLibrary, result: GenerationResult, firstPrompt: string, firstAnswer: string | undefined, claim: HeldLock): Promise<GenerationResult> {
  const { skill, goal } = result;
  const maxAttempts = input.maxAttempts;
  const step = (name: string, status: string, extra: { error?: string } = {}) => emitEvent('evolution_skill', { skill, step: name, attempt: result.attempts || null, status, ...extra });
  const instructions = skillInstructions(deps.limits);
  let prompt = firstPrompt;
  let answer = firstAnswer;
  let code = '';
  while (result.attempts < maxAttempts) {
    result.attempts++;
    if (answer === undefined) {
      const reply = await deps.door.agent({ sessionId: GENERATION_SESSION, purpose: 'self_evolution_generate_skill', instructions, prompt, signal: input.signal });
      result.request_ids.push(reply.requestId);
      if (reply.status === 'error') {
        result.error = `the model failed: ${reply.error ?? reply.text}`;
        step('generate', 'error', { error: result.error });
        break;
      }
      if (reply.deferred) {
        result.status = 'queued';
        mkdirSync(lib.stagingDir, { recursive: true });
        const q: QueuedState = { request_id: reply.requestId, goal, attempt: result.attempts, max_attempts: maxAttempts, replace: input.replace ?? false, origin: (input.origin ?? 'cli').replace(/^resumed:/, ''), require_approval: input.requireApproval ?? false, prompt };
        writeJsonAtomic(join(lib.stagingDir, 'queued.json'), q);
        // From here queued.json says "pending": a resume may take the claim at once.
        claim.release();
        step('generate', 'queued');
        return finish(deps, input, result);
      }
      answer = reply.text;
    }
    step('generate', 'ok');
    const candidate = parseCandidate(answer, goal);
    answer = undefined;
    code = candidate.code;
    result.samples = candidate.samples;
    const verdict = await validateCandidate(deps.sandbox, skill, code, candidate.samples, input.signal);
    result.staged_path = lib.stage(code, { skill, goal, attempt: result.attempts, samples: candidate.samples, samples_from: candidate.samplesFrom, valid: verdict.ok, error: verdict.ok ? null : verdict.error });
    if (verdict.ok) {
      result.outputs = verdict.outputs;
      result.error = null;
      step('validate', 'ok');
      break;
    }
    result.error = verdict.error;
    step('validate', 'error', { error: verdict.error });
    prompt = correctionRequest(skill, goal, result.attempts + 1, code, verdict.error);
  }
  if (result.error !== null) return finish(deps, input, result);

  result.risk_reasons = riskReasons(code);
  if (input.requireApproval) result.risk_reasons.push(`proposed by ${input.origin ?? 'the model'}`);
  if (result.risk_reasons.length) {
    if (!deps.requestApproval) {
      result.error = `skill '${skill}' ${result.risk_reasons.join(' and ')}: it needs operator approval, and no approval gate is available here`;
      step('approval', 'error', { error: result.error });
      return finish(deps, input, result);
    }
    const { token } = await deps.requestApproval({ skill, goal, replace: input.replace ?? false, reasons: result.risk_reasons, summary: codeSummary(code), stagedPath: result.staged_path! });
    result.status = 'pending_approval';
    result.approval_token = token;
    step('approval', 'pending');
    return finish(deps, input, result);
  }
  try {
    const promoted = lib.promote(code, input.replace ?? false);
    result.promoted_path = promoted.path;
    result.replaced_path = promoted.replaced;
    result.status = 'promoted';
    step('promote', 'ok');
  } catch (err) {
    result.error = errorChain(err);
    step('promote', 'error', { error: result.error });
  }
  return finish(deps, input, result);
}

/**
 * Promotes a staged candidate after the operator approved it. Only a candidate whose staged
 * report says it passed validation goes live.
 */
export async function promoteApproved(deps: Pick<GenerationDeps, 'skillsDir' | 'workspace' | 'telemetry' | 'env'>, p: { skill: string; goal: string; replace: boolean }): Promise<string> {
  const lib = new SkillLibrary(deps.skillsDir, p.skill);
  let code: string;
  let report: { valid?: unknown; attempt?: unknown };
  try {
    code = readFileSync(join(lib.stagingDir, 'candidate.js'), 'utf8');
    report = JSON.parse(readFileSync(join(lib.stagingDir, 'report.json'), 'utf8')) as typeof report;
  } catch (err) {
    throw new AppError('skill_not_staged', `skill '${lib.name}' has no staged candidate`, { cause: err });
  }
  if (report.valid !== true) throw new AppError('skill_not_valid', `the staged candidate of skill '${lib.name}' did not pass validation; nothing promoted`);
  const attempts = typeof report.attempt === 'number' ? report.attempt : 0;
  try {
    const r = lib.promote(code, p.replace);
    emitEvent('evolution_skill', { skill: lib.name, step: 'promote', attempt: null, status: 'ok' });
    await record(deps, 'approval', { status: 'promoted', skill: lib.name, goal: p.goal, model: 'approved', attempts, promoted_path: r.path, replaced_path: r.replaced, approval_token: null, error: null });
    return `skill '${lib.name}' promoted to ${r.path}`;
  } catch (err) {
    emitEvent('evolution_skill', { skill: lib.name, step: 'promote', attempt: null, status: 'error', error: errorChain(err) });
    await record(deps, 'approval', { status: 'failed', skill: lib.name, goal: p.goal, model: 'approved', attempts, promoted_path: null, replaced_path: null, approval_token: null, error: errorChain(err) });
    throw err;
  }
}

type Outcome = Pick<GenerationResult, 'status' | 'skill' | 'goal' | 'model' | 'attempts' | 'promoted_path' | 'replaced_path' | 'approval_token' | 'error'>;

/** Telemetry `evolution.last_skill_*` (merged into the section) and the audit record. */
async function record(deps: Pick<GenerationDeps, 'workspace' | 'telemetry' | 'env'>, origin: string, r: Outcome): Promise<void> {
  if (deps.telemetry) {
    let current: Record<string, unknown> | null = null;
    try {
      current = deps.telemetry.read().evolution;
    } catch {
      current = null;
    }
    deps.telemetry.setSection('evolution', { ...(current ?? {}), last_skill_name: r.skill, last_skill_status: r.status, last_skill_attempts: r.attempts, last_skill_model: r.model, last_skill_error: r.error, last_skill_at: new Date().toISOString() });
  }
  try {
    await appendSkillAudit(deps.workspace, { skill: r.skill, goal: r.goal, origin, model: r.model, status: r.status, attempts: r.attempts, promoted_path: r.promoted_path, replaced_path: r.replaced_path, approval_token: r.approval_token, error: r.error }, deps.env);
  } catch (err) {
    emitEvent('warning', { message: `failed appending the evolution audit record: ${errorChain(err)}` });
  }
}

async function finish(deps: GenerationDeps, input: GenerationInput, result: GenerationResult): Promise<GenerationResult> {
  await record(deps, input.origin ?? 'cli', result);
  emitEvent('evolution_skill', { skill: result.skill, step: 'finish', attempt: result.attempts, status: result.status, ...(result.error ? { error: result.error } : {}) });
  return result;
}
