// `evolution generate-skill` composition: an app whose door reaches the chosen model (the Codex
// pool when Codex is enabled, else the configured provider), then one generation.
import { loadSettings } from '../config/index.js';
import { generateSkill, type GenerationInput, type GenerationResult } from '../evolution/skills/index.js';
import { createApp, type AppOptions } from './create-app.js';
import { generationDeps, usesCodexPool } from './evolution-deps.js';

export { usesCodexPool };

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
