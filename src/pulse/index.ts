// Pulse face: the service (jobs, goals, approvals over the locked state file), ticks, OODA
// cycles, the `serve` scheduler, and the pure rules tests and the composition need.
import { join } from 'node:path';
import type { PulseSettings } from '../config/index.js';
import { PulseService, type PulseOptions } from './service.js';

export { PulseService, type PulseOptions } from './service.js';
export { PulseScheduler, type SchedulerOptions } from './scheduler.js';
export { runTick, nextDue, type TickOutcome } from './tick.js';
export { runOodaCycle, type CycleInput } from './cycle.js';
export { flushPendingNotifications, deliverNotification } from './notify.js';
export { systemClock, ManualClock, type Clock } from './clock.js';
export { PulseError, defaultJobs, isPrivateHost, validateHealthcheckUrl, validateJobId, HEARTBEAT_JOB, CODEX_HEALTH_JOB, CODEX_DRAIN_JOB } from './jobs.js';
export { classifyRisk, requiresApproval, matchesWord, parseObservations, parseAction, orientRule, decide, CRITICAL_WORDS, HIGH_WORDS } from './ooda.js';
export { newApprovalToken, approvalView } from './approvals.js';
export { decodeState, PulseStateStore } from './state-store.js';
export { validateSkillName, validateSkillGoal, validateNewSkillGoal, MAX_SKILL_GOAL_CHARS, type SkillGenerator } from './skill-job.js';
export type { PulseCallbacks } from './executors.js';
export type * from './types.js';

/** `${workspace}/pulse/state.json`. */
export function pulseStatePath(workspace: string): string {
  return join(workspace, 'pulse', 'state.json');
}

/** A service on the workspace's state file. Cheap: nothing is read until an operation runs. */
export function openPulse(input: { workspace: string; settings: PulseSettings; codexEnabled: boolean } & Omit<PulseOptions, 'statePath' | 'settings' | 'codexEnabled'>): PulseService {
  const { workspace, ...rest } = input;
  return new PulseService({ statePath: pulseStatePath(workspace), ...rest });
}
