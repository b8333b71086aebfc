// One OODA cycle: observe (given observations), orient (model or rule), decide, classify
// risk, then either park the action for approval or act now through the executors.
import { emitEvent } from '../observe/index.js';
import { iso } from './jobs.js';
import { classifyRisk, decide, orient, parseAction, requiresApproval } from './ooda.js';
import { performAction } from './executors.js';
import { deliverNotification } from './notify.js';
import { markGoal, type PulseService } from './service.js';
import type { Observation, OodaReport, PendingAction } from './types.js';

export interface CycleInput {
  action: string;
  observations: Observation[];
  goal?: string;
  /** What Act performs; default: what the action text names (parseAction). */
  perform?: PendingAction;
}

export async function runOodaCycle(svc: PulseService, input: CycleInput): Promise<OodaReport> {
  const action = input.action.trim();
  const goalId = input.goal?.trim() || undefined;
  const goalText = goalId ? svc.store.read().goals.find((g) => g.id === goalId)?.description : undefined;
  const o = await orient(input.observations, action, goalText, svc.callbacks.assess, svc.settings.assessTimeoutSecs * 1000);
  // Classified by what Act would perform, never by the words of the action text.
  const perform = input.perform ?? parseAction(action);
  const risk = classifyRisk(action, input.observations, perform);
  const decision = decide(input.observations);
  const report: OodaReport = {
    timestamp: iso(svc.now()),
    observations: input.observations,
    orientation: o.text,
    orientation_source: o.source,
    ...(o.note ? { orientation_note: o.note } : {}),
    decision,
    action: input.action,
    risk,
    approval_status: 'approved',
    approval_token: null,
    goal_id: input.goal ?? null,
    act_result: null,
  };
  if (requiresApproval(action, risk, svc.settings.autoAllowActions, perform)) {
    const a = await svc.createPending(action, risk, goalId, perform);
    report.approval_status = 'pending';
    report.approval_token = a.token;
  } else {
    if (perform.kind !== 'none') {
      report.act_result = await performAction(perform, svc.callbacks, {
        allowPrivateHttp: svc.settings.allowPrivateHealthchecks,
        now: () => svc.now(),
        sendNotify: (text) => deliverNotification(svc, text),
      });
    }
    // The original's rule: a cycle that needs no approval achieves its goal (unless Act failed).
    await svc.mutate((s) => {
      if (goalId && report.act_result?.status !== 'error') markGoal(s, goalId, iso(svc.now()), 'marked achieved by OODA cycle');
    });
  }
  emitEvent('pulse_ooda', { action: report.action, risk, decision, approval_status: report.approval_status, orientation_source: o.source, goal_id: report.goal_id });
  return report;
}
