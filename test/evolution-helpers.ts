// Shared by the evolution tests: sandbox settings as the defaults load them.
import { settingsFromEnv, type SkillSettings } from '../src/config/index.js';

export function loadSkillSettingsForTest(): SkillSettings {
  return settingsFromEnv({}, '/tmp').skills;
}

/** Resolves once the skill audit spool holds `n` records (checked as they appear, no fixed wait). */
export async function spooled(workspace: string, n: number): Promise<string[]> {
  const { readdirSync } = await import('node:fs');
  const { auditSpoolDir } = await import('../src/evolution/skills/index.js');
  for (;;) {
    let names: string[] = [];
    try {
      names = readdirSync(auditSpoolDir(workspace)).filter((f) => f.endsWith('.json') && !f.startsWith('.'));
    } catch {
      names = [];
    }
    if (names.length >= n) return names.sort();
    await new Promise((r) => setTimeout(r, 5));
  }
}
