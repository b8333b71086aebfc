// Skill sandbox settings: HTTP policy and per-run budgets (memory, wall time, output, calls).
import type { EnvReader } from './env-reader.js';

export interface SkillSettings {
  httpTimeoutSecs: number;
  /** Hosts an operator deliberately opens to skills despite the private-address policy. */
  httpAllow: string[];
  memoryLimitMb: number;
  timeoutMs: number;
  /** Largest text a skill may return (bytes, UTF-8). */
  maxOutputBytes: number;
  /** http_get/http_post calls allowed per run. */
  maxHttpCalls: number;
  /** Largest HTTP response body handed to a skill (bytes). */
  httpMaxBodyBytes: number;
  /** Skill generations (model-written skills) allowed per UTC day; 0 turns generation off. */
  generationDailyBudget?: number;
}

export function loadSkillSettings(r: EnvReader): SkillSettings {
  return {
    httpTimeoutSecs: r.int('RUSTY_PINCH_SKILL_HTTP_TIMEOUT_SECS', 20, { min: 1, max: 600 }),
    httpAllow: r.csv('RUSTY_PINCH_SKILL_HTTP_ALLOW').map((h) => h.toLowerCase()),
    memoryLimitMb: r.int('RUSTY_PINCH_SKILL_MEMORY_MB', 32, { min: 1, max: 1024 }),
    timeoutMs: r.int('RUSTY_PINCH_SKILL_TIMEOUT_MS', 5000, { min: 10, max: 600_000 }),
    maxOutputBytes: r.int('RUSTY_PINCH_SKILL_MAX_OUTPUT_KB', 128, { min: 1, max: 16_384 }) * 1024,
    maxHttpCalls: r.int('RUSTY_PINCH_SKILL_MAX_HTTP_CALLS', 16, { min: 0, max: 10_000 }),
    httpMaxBodyBytes: r.int('RUSTY_PINCH_SKILL_HTTP_MAX_BODY_KB', 1024, { min: 1, max: 65_536 }) * 1024,
    generationDailyBudget: r.int('RUSTY_PINCH_EVOLUTION_SKILL_DAILY_BUDGET', 10, { min: 0, max: 1000 }),
  };
}
