// The callback Pulse asks Evolution for skills through: the OODA action `skill_create` and
// scheduled `skill_generation` jobs. Always the whole pipeline with the operator's approval
// before anything goes live (origin `pulse`), bounded by the daily generation budget the
// pipeline keeps (RUSTY_PINCH_EVOLUTION_SKILL_DAILY_BUDGET). With `ifNeeded` (jobs), a request
// that would repeat one already made is reported instead of generated: the skill is live and
// no replace was asked, or a generation of it is queued for the model or running here.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../config/index.js';
import type { SkillGenerator } from '../pulse/index.js';
import { SkillLibrary, generateSkill } from '../evolution/skills/index.js';
import { generationDeps, type GenerationHost } from './evolution-deps.js';

/** A queued generation older than this is taken as lost (its model answer never came back). */
export const QUEUED_STALE_MS = 24 * 3600_000;

/** When a generation of the skill was queued for a later model answer (epoch ms), if it was. */
function queuedSince(lib: SkillLibrary): number | undefined {
  try {
    return statSync(join(lib.stagingDir, 'queued.json')).mtimeMs;
  } catch {
    return undefined;
  }
}

/** `host` is opened only when a generation really starts (a no-op run builds nothing). */
export function pulseSkillGenerator(settings: Pick<Settings, 'workspace'>, host: () => Promise<GenerationHost>, now: () => number = Date.now): SkillGenerator {
  const running = new Set<string>();
  return async (p) => {
    const lib = new SkillLibrary(join(settings.workspace, 'skills'), p.name);
    const skill = lib.name;
    // Checked and claimed with no await in between: two runs in one process cannot both start.
    if (p.ifNeeded) {
      if (running.has(skill)) return `no-op: a generation of skill '${skill}' is already running`;
      if (!p.replace && lib.exists()) return `no-op: skill '${skill}' already exists (a job with --replace asks for a new version)`;
      const queued = queuedSince(lib);
      if (queued !== undefined && now() - queued < QUEUED_STALE_MS) return `no-op: a generation of skill '${skill}' is queued for the model since ${new Date(queued).toISOString()} (serve completes it)`;
    }
    running.add(skill);
    try {
      const r = await generateSkill(generationDeps(await host()), { name: skill, goal: p.goal, replace: p.replace ?? false, origin: 'pulse', requireApproval: true });
      if (r.status === 'failed') throw new Error(`skill '${r.skill}' was not generated after ${r.attempts} attempt(s): ${r.error ?? 'unknown error'}`);
      return `skill '${r.skill}' ${r.status}${r.approval_token ? ` (approval token ${r.approval_token})` : ''}`;
    } finally {
      running.delete(skill);
    }
  };
}
