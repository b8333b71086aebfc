// The callback Pulse asks Evolution for skills through: the OODA action `skill_create` and
// scheduled `skill_generation` jobs. Always the whole pipeline with the operator's approval
// before anything goes live (origin `pulse`), bounded by the daily generation budget the
// pipeline keeps (RUSTY_PINCH_EVOLUTION_SKILL_DAILY_BUDGET). With `ifNeeded` (jobs), a request
// that would repeat one already made is reported instead of generated: the skill is live and
// no replace was asked, or a generation of it is queued for the model or running in any process
// (the pipeline's per-skill claim decides; the look here only spares opening the app for a no-op).
import { join } from 'node:path';
import type { Settings } from '../config/index.js';
import type { SkillGenerator } from '../pulse/index.js';
import { QUEUED_STALE_MS, SkillBusyError, SkillLibrary, generateSkill, queuedGeneration, runningGeneration } from '../evolution/skills/index.js';
import { generationDeps, type GenerationHost } from './evolution-deps.js';

export { QUEUED_STALE_MS };

/** `host` is opened only when a generation really starts (a no-op run builds nothing). */
export function pulseSkillGenerator(settings: Pick<Settings, 'workspace'>, host: () => Promise<GenerationHost>, now: () => number = Date.now): SkillGenerator {
  return async (p) => {
    const lib = new SkillLibrary(join(settings.workspace, 'skills'), p.name);
    const skill = lib.name;
    const exists = () => !p.replace && lib.exists();
    if (p.ifNeeded) {
      const running = runningGeneration(lib);
      if (running) return `no-op: a generation of skill '${skill}' is already running (pid ${running.pid ?? '?'}, started ${running.started_at ?? '?'})`;
      if (exists()) return `no-op: skill '${skill}' already exists (a job with --replace asks for a new version)`;
      const queued = queuedGeneration(lib, now());
      if (queued) return `no-op: a generation of skill '${skill}' is queued for the model since ${queued.since} (serve completes it)`;
    }
    try {
      const r = await generateSkill(generationDeps(await host()), { name: skill, goal: p.goal, replace: p.replace ?? false, origin: 'pulse', requireApproval: true });
      if (r.status === 'failed') throw new Error(`skill '${r.skill}' was not generated after ${r.attempts} attempt(s): ${r.error ?? 'unknown error'}`);
      return `skill '${r.skill}' ${r.status}${r.approval_token ? ` (approval token ${r.approval_token})` : ''}`;
    } catch (err) {
      // Another process won the claim between the look above and the generation's own check.
      if (p.ifNeeded && err instanceof SkillBusyError) return `no-op: ${err.message}`;
      if (p.ifNeeded && exists()) return `no-op: skill '${skill}' already exists (a job with --replace asks for a new version)`;
      throw err;
    }
  };
}
