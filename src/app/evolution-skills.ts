// Composition for skill generation: the model is the Codex pool when Codex is enabled and has
// somewhere to run (provider codex, or accounts configured), else the configured provider. Either
// way the work goes through the runtime door, so each model call is a recorded turn.
import { join } from 'node:path';
import { loadSettings, type Settings } from '../config/index.js';
import { generateSkill, type GenerationDeps, type GenerationInput, type GenerationResult } from '../evolution/skills/index.js';
import { createApp, type App, type AppOptions } from './create-app.js';

/** True when generations go to the Codex pool. */
export function usesCodexPool(settings: Settings): boolean {
  return settings.codex.enabled && (settings.provider === 'codex' || settings.codex.accounts.length > 0);
}

/** The generation's dependencies from an app (also used by serve, tools and Pulse). */
export function generationDeps(app: App, extra: Partial<GenerationDeps> = {}): GenerationDeps {
  const s = app.settings;
  return {
    door: app.runtime,
    sandbox: app.skills,
    skillsDir: join(s.workspace, 'skills'),
    workspace: s.workspace,
    limits: s.skills,
    model: usesCodexPool(s) ? 'codex_pool' : `provider:${s.provider}`,
    telemetry: app.telemetry,
    // Risky candidates wait for the operator (a Pulse approval; approving promotes).
    requestApproval: async (req) => {
      const a = await (await app.pulse()).requestSkillPromotion({ skill: req.skill, goal: req.goal, replace: req.replace, reasons: req.reasons, summary: req.summary });
      return { token: a.token };
    },
    ...extra,
  };
}

export async function runGenerateSkill(input: GenerationInput, options: AppOptions = {}): Promise<GenerationResult> {
  const base = options.settings ?? loadSettings();
  const settings = usesCodexPool(base) && base.provider !== 'codex' ? { ...base, provider: 'codex' as const } : base;
  const app = await createApp({ ...options, settings });
  try {
    return await generateSkill(generationDeps(app), input);
  } finally {
    await app.close();
  }
}
