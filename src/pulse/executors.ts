// Performing things: job actions (heartbeat log, codex callbacks, HTTP checks) and approved or
// OODA actions (tool, skill, HTTP call, notification) through callbacks the composition injects.
import { emitEvent } from '../observe/index.js';
import { httpRequest, runHttpHealthCheck } from './http-check.js';
import { iso, validateHealthcheckUrl } from './jobs.js';
import { isSkillGeneration, runSkillGenerationJob, type SkillGenerator, type SkillRequests } from './skill-job.js';
import type { ApprovalOutcome, JobSnapshot, PendingAction } from './types.js';

/** Callbacks Pulse runs through; all optional (a missing one is reported, never faked). */
export interface PulseCallbacks {
  /** Forced health check of every Codex account; returns a summary line. */
  codexHealthcheck?: () => Promise<string>;
  /** Runs at most one queued Codex task; returns a summary line. */
  codexDrainOne?: () => Promise<string>;
  /**
   * Hands text for an operator target like `telegram:<chat id>` to the road out (the app: the
   * durable outbox, resolving `queued`; tests: a direct send, resolving nothing = `sent`).
   * Absent: the notification stays pending.
   */
  notify?: (target: string, text: string, kind?: 'notification' | 'approval') => Promise<void | 'queued'>;
  /** Asks the configured model to assess observations (OODA orient). */
  assess?: (prompt: string) => Promise<string>;
  /** Runs an approved model-requested tool and records its result in the session. */
  runTool?: (call: { name: string; args: string; session_id: string; request_id: string }) => Promise<string>;
  /** Runs an installed skill. */
  runSkill?: (name: string, args: string) => Promise<string>;
  /**
   * Generates a skill through Evolution (it ends in an approval request); returns a summary.
   * `ifNeeded` (scheduled jobs): a live skill without `replace`, or a generation of it queued
   * or running, is reported in the returned line instead of generating again.
   */
  generateSkill?: SkillGenerator;
  /** Promotes a generated skill from staging (an approved skill promotion). */
  promoteSkill?: (p: { skill: string; goal: string; replace: boolean }) => Promise<string>;
  /** Receives the telemetry `pulse` section after changes. */
  telemetry?: (section: Record<string, unknown>) => void;
}

/** `skillRequests`: what the approvals say about a skill (a skill generation job may then be a no-op). */
export async function executeJobAction(
  job: Pick<JobSnapshot, 'id' | 'action'>,
  cb: PulseCallbacks,
  codexEnabled: boolean,
  allowPrivateHttp = false,
  skillRequests: (skill: string) => SkillRequests = () => ({}),
): Promise<{ ok: boolean; message: string }> {
  const action = job.action;
  try {
    if (action === 'codex_health_check' || action === 'codex_drain_queue_one') {
      if (!codexEnabled) return { ok: false, message: 'codex integration is disabled' };
      const fn = action === 'codex_health_check' ? cb.codexHealthcheck : cb.codexDrainOne;
      if (!fn) return { ok: false, message: 'codex pool is not available in this process' };
      return { ok: true, message: await fn() };
    }
    if (isSkillGeneration(action)) return await runSkillGenerationJob(job.id, action, cb.generateSkill, skillRequests(action.skill_generation.name));
    if ('emit_log' in action) {
      emitEvent('pulse_action', { type: 'emit_log', message: action.emit_log.message });
      return { ok: true, message: 'log emitted' };
    }
    const hc = action.http_health_check;
    return await runHttpHealthCheck(hc.url, hc.expected_status, hc.timeout_secs, allowPrivateHttp);
  } catch (err) {
    return { ok: false, message: (err as Error).message || String(err) };
  }
}

const MAX_OUTCOME_CHARS = 2000;
const clip = (s: string): string => (s.length > MAX_OUTCOME_CHARS ? `${s.slice(0, MAX_OUTCOME_CHARS)}...` : s);

/**
 * Performs an approved (or unrisky OODA) action. `notify` goes through `sendNotify` (which
 * records and delivers); `none` is recorded only.
 */
export async function performAction(
  p: PendingAction,
  cb: PulseCallbacks,
  opts: { allowPrivateHttp: boolean; now: () => number; sendNotify: (text: string) => Promise<string> },
): Promise<ApprovalOutcome> {
  const done = (status: ApprovalOutcome['status'], message: string): ApprovalOutcome => ({ status, message: clip(message), finished_at: iso(opts.now()) });
  try {
    switch (p.kind) {
      case 'tool':
        if (!cb.runTool) return done('error', 'tool execution is not available in this process');
        return done('ok', await cb.runTool({ name: p.name, args: p.args, session_id: p.session_id, request_id: p.request_id }));
      case 'skill':
        if (!cb.runSkill) return done('error', 'skill execution is not available in this process');
        return done('ok', await cb.runSkill(p.name, p.args));
      case 'skill_generation':
        if (!cb.generateSkill) return done('error', 'skill generation is not available in this process');
        return done('ok', await cb.generateSkill({ name: p.name, goal: p.goal }));
      case 'skill_promotion':
        if (!cb.promoteSkill) return done('error', 'skill promotion is not available in this process');
        return done('ok', await cb.promoteSkill({ skill: p.skill, goal: p.goal, replace: p.replace }));
      case 'http': {
        const url = validateHealthcheckUrl(p.url, opts.allowPrivateHttp);
        const res = await httpRequest(url, { method: p.method, body: p.body, timeoutMs: 20_000, maxBody: 4096, allowPrivate: opts.allowPrivateHttp });
        const ok = res.status >= 200 && res.status < 400;
        return done(ok ? 'ok' : 'error', `http ${p.method} ${url} -> ${res.status}${res.body ? `: ${res.body}` : ''}`);
      }
      case 'notify':
        return done('ok', await opts.sendNotify(p.text));
      default:
        return done('recorded', 'the action names nothing executable (http/notify/skill/tool); decision recorded');
    }
  } catch (err) {
    return done('error', (err as Error).message || String(err));
  }
}
