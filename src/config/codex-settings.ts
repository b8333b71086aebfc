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
  /** `stdin` (default): the prompt goes on stdin; `arg`: on argv, as the original (visible in /proc). */
  promptMode: 'stdin' | 'arg';
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

/** Account ids name a directory (`<home root>/<id>`), so they must be a safe file name. */
export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Beyond the original: an id that is not a safe directory name, or a duplicate id (the original
 * kept both, sharing one quota name), is dropped with an issue that doctor reports; the first
 * entry with an id wins. If nothing is left, the implicit `default` account is used.
 */
function checkAccounts(r: EnvReader, accounts: CodexAccountConfig[], maxRequests: number): CodexAccountConfig[] {
  const raw = r.raw('RUSTY_PINCH_CODEX_ACCOUNTS') ?? '';
  const seen = new Set<string>();
  const out: CodexAccountConfig[] = [];
  for (const a of accounts) {
    if (!ACCOUNT_ID_PATTERN.test(a.id)) {
      r.issue('RUSTY_PINCH_CODEX_ACCOUNTS', raw, `account id '${a.id}' is not allowed (letters, digits, '.', '_', '-'; at most 64); entry ignored`, 'entry skipped');
      continue;
    }
    if (seen.has(a.id)) {
      r.issue('RUSTY_PINCH_CODEX_ACCOUNTS', raw, `duplicate account id '${a.id}'; only the first entry is used`, 'first entry');
      continue;
    }
    seen.add(a.id);
    out.push(a);
  }
  return out.length ? out : parseCodexAccounts(undefined, { maxRequests, apiKeyEnv: r.str('RUSTY_PINCH_CODEX_ACCOUNT_API_KEY_ENV'), model: r.str('RUSTY_PINCH_CODEX_ACCOUNT_MODEL') });
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
    promptMode: r.oneOf('RUSTY_PINCH_CODEX_PROMPT_MODE', ['stdin', 'arg'] as const, 'stdin'),
    model: r.str('RUSTY_PINCH_CODEX_MODEL') ?? (provider === 'codex' && model ? model : undefined),
    timeoutSecs: r.int('RUSTY_PINCH_CODEX_TIMEOUT_SECS', 120, { min: 1, max: 86_400 }),
    queueCapacity: r.int('RUSTY_PINCH_CODEX_QUEUE_CAPACITY', 256, { min: 1, max: 100_000 }),
    rateLimitThresholdPercent: r.int('RUSTY_PINCH_CODEX_RATE_LIMIT_THRESHOLD_PERCENT', 25, { min: 1, max: 99, clamp: true }),
    rateWindowSecs: r.int('RUSTY_PINCH_CODEX_RATE_WINDOW_SECS', 3600, { min: 1 }),
    healthcheckIntervalSecs: r.int('RUSTY_PINCH_CODEX_HEALTHCHECK_INTERVAL_SECS', 300, { min: 1 }),
    healthcheckArgs: hcArgs.length ? hcArgs : ['--version'],
    accounts: checkAccounts(r, parseCodexAccounts(r.raw('RUSTY_PINCH_CODEX_ACCOUNTS'), {
      maxRequests,
      apiKeyEnv: r.str('RUSTY_PINCH_CODEX_ACCOUNT_API_KEY_ENV'),
      model: r.str('RUSTY_PINCH_CODEX_ACCOUNT_MODEL'),
    }), maxRequests),
    homeRoot: homeRoot ? resolve(cwd, homeRoot) : resolve(workspace, 'codex-homes'),
  };
}
