// Skill sandbox settings: HTTP policy and budgets.
import type { EnvReader } from './env-reader.js';

export interface SkillSettings {
  httpTimeoutSecs: number;
  /** Hosts an operator deliberately opens to skills despite the private-address policy. */
  httpAllow: string[];
  memoryLimitMb: number;
  timeoutMs: number;
}

export function loadSkillSettings(r: EnvReader): SkillSettings {
  return {
    httpTimeoutSecs: r.int('RUSTY_PINCH_SKILL_HTTP_TIMEOUT_SECS', 20, { min: 1, max: 600 }),
    httpAllow: r.csv('RUSTY_PINCH_SKILL_HTTP_ALLOW').map((h) => h.toLowerCase()),
    memoryLimitMb: r.int('RUSTY_PINCH_SKILL_MEMORY_MB', 32, { min: 1, max: 1024 }),
    timeoutMs: r.int('RUSTY_PINCH_SKILL_TIMEOUT_MS', 5000, { min: 10, max: 600_000 }),
  };
}
