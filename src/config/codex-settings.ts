// Codex CLI settings: binary and flags, account pool, rate windows, queue, health checks.
import { resolve } from 'node:path';
import type { EnvReader } from './env-reader.js';

export interface CodexAccountConfig {
  id: string;
  apiKeyEnv: string | undefined;
  maxRequests: number;
  model: string | undefined;
}

export interface CodexSettings {
  enabled: boolean;
  cliBin: string;
  cliArgs: string[];
  promptFlag: string;
  modelFlag: string;
  /** Model passed to the CLI: RUSTY_PINCH_CODEX_MODEL, else RUSTY_PINCH_MODEL when provider is codex. */
  model: string | undefined;
  timeoutSecs: number;
  queueCapacity: number;
  rateLimitThresholdPercent: number;
  rateWindowSecs: number;
  healthcheckIntervalSecs: number;
  healthcheckArgs: string[];
  accounts: CodexAccountConfig[];
  /** Root of the per-account CODEX_HOME directories. Default `${WORKSPACE}/codex-homes`. */
  homeRoot: string;
}

/** Parses `id|api_key_env|max_requests|model;…` exactly as the original (reference §2.5). */
export function parseCodexAccounts(raw: string | undefined, defaults: { maxRequests: number; apiKeyEnv?: string; model?: string }): CodexAccountConfig[] {
  const out: CodexAccountConfig[] = [];
  for (const entry of (raw ?? '').split(';')) {
    const fields = entry.trim().split('|').map((f) => f.trim());
    const id = fields[0];
    if (!id) continue;
    const max = fields[2] && /^\d+$/.test(fields[2]) && Number(fields[2]) <= 0xffffffff ? Number(fields[2]) : defaults.maxRequests;
    out.push({ id, apiKeyEnv: fields[1] || undefined, maxRequests: Math.max(1, max), model: fields[3] || undefined });
  }
  if (out.length === 0) out.push({ id: 'default', apiKeyEnv: defaults.apiKeyEnv, maxRequests: Math.max(1, defaults.maxRequests), model: defaults.model });
  return out;
}

export function loadCodexSettings(r: EnvReader, provider: string, model: string, workspace: string, cwd: string): CodexSettings {
  const maxRequests = r.int('RUSTY_PINCH_CODEX_ACCOUNT_MAX_REQUESTS', 200, { min: 1 });
  const hcArgs = r.args('RUSTY_PINCH_CODEX_HEALTHCHECK_ARGS', ['--version']);
  const homeRoot = r.str('RUSTY_PINCH_CODEX_HOME_ROOT');
  return {
    enabled: r.bool('RUSTY_PINCH_CODEX_ENABLED', true),
    cliBin: r.strKeepEmpty('RUSTY_PINCH_CODEX_CLI_BIN', 'codex'),
    cliArgs: r.args('RUSTY_PINCH_CODEX_CLI_ARGS', ['exec', '--skip-git-repo-check']),
    promptFlag: r.strKeepEmpty('RUSTY_PINCH_CODEX_PROMPT_FLAG', ''),
    modelFlag: r.strKeepEmpty('RUSTY_PINCH_CODEX_MODEL_FLAG', '--model'),
    model: r.str('RUSTY_PINCH_CODEX_MODEL') ?? (provider === 'codex' && model ? model : undefined),
    timeoutSecs: r.int('RUSTY_PINCH_CODEX_TIMEOUT_SECS', 120, { min: 1, max: 86_400 }),
    queueCapacity: r.int('RUSTY_PINCH_CODEX_QUEUE_CAPACITY', 256, { min: 1, max: 100_000 }),
    rateLimitThresholdPercent: r.int('RUSTY_PINCH_CODEX_RATE_LIMIT_THRESHOLD_PERCENT', 25, { min: 1, max: 99, clamp: true }),
    rateWindowSecs: r.int('RUSTY_PINCH_CODEX_RATE_WINDOW_SECS', 3600, { min: 1 }),
    healthcheckIntervalSecs: r.int('RUSTY_PINCH_CODEX_HEALTHCHECK_INTERVAL_SECS', 300, { min: 1 }),
    healthcheckArgs: hcArgs.length ? hcArgs : ['--version'],
    accounts: parseCodexAccounts(r.raw('RUSTY_PINCH_CODEX_ACCOUNTS'), {
      maxRequests,
      apiKeyEnv: r.str('RUSTY_PINCH_CODEX_ACCOUNT_API_KEY_ENV'),
      model: r.str('RUSTY_PINCH_CODEX_ACCOUNT_MODEL'),
    }),
    homeRoot: homeRoot ? resolve(cwd, homeRoot) : resolve(workspace, 'codex-homes'),
  };
}
