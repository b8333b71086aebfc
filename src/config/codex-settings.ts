// Codex CLI settings: binary and flags, account pool, rate windows, queue, health checks, and
// the login bootstrap of the accounts' own homes (the original container entrypoint's variables).
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { registerSecrets } from '../kernel/index.js';
import type { EnvReader } from './env-reader.js';

/** What `codex exec` gets when RUSTY_PINCH_CODEX_CLI_ARGS is unset: JSONL events, read-only sandbox (`-C <scratch>` is added per run). */
export const DEFAULT_CODEX_CLI_ARGS = ['exec', '--json', '--skip-git-repo-check', '-s', 'read-only'];

export type CodexAutoLoginMode = 'chatgpt' | 'api-key' | 'off';

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
  /** True when the operator set RUSTY_PINCH_CODEX_CLI_ARGS: their argv is used as given (no `-C` scratch dir added). */
  cliArgsCustom: boolean;
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
  /** True when RUSTY_PINCH_CODEX_ACCOUNTS names accounts; else the one `default` account uses the operator's own home. */
  accountsConfigured: boolean;
  /** The operator's Codex home (CODEX_HOME, else ~/.codex): where `codex login` put their credentials. */
  operatorHome: string;
  autoLogin: boolean;
  autoLoginMode: CodexAutoLoginMode;
  /** Variable holding the key for `api-key` auto-login when the account names none (default RUSTY_PINCH_OPENAI_API_KEY). */
  autoLoginApiKeyEnv: string;
  chatgptAuthFile: string | undefined;
  chatgptAuthJsonB64: string | undefined;
  chatgptDeviceAuth: boolean;
  loginTimeoutSecs: number;
}

/** True when this process has Codex work to do: the provider is codex, or accounts are configured. */
export function codexInUse(provider: string, codex: CodexSettings): boolean {
  return codex.enabled && (provider === 'codex' || codex.accountsConfigured);
}

function autoLoginMode(r: EnvReader): CodexAutoLoginMode {
  const raw = r.str('RUSTY_PINCH_CODEX_AUTO_LOGIN_MODE');
  if (raw === undefined) return 'chatgpt';
  const v = raw.toLowerCase();
  if (v === 'chatgpt') return 'chatgpt';
  if (v === 'api-key' || v === 'api_key' || v === 'apikey') return 'api-key';
  if (v === 'off' || v === 'none' || v === 'disabled') return 'off';
  r.issue('RUSTY_PINCH_CODEX_AUTO_LOGIN_MODE', raw, 'expected chatgpt, api-key or off', 'chatgpt');
  return 'chatgpt';
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
  const cliArgsRaw = r.raw('RUSTY_PINCH_CODEX_CLI_ARGS');
  const accounts = checkAccounts(r, parseCodexAccounts(r.raw('RUSTY_PINCH_CODEX_ACCOUNTS'), {
    maxRequests,
    apiKeyEnv: r.str('RUSTY_PINCH_CODEX_ACCOUNT_API_KEY_ENV'),
    model: r.str('RUSTY_PINCH_CODEX_ACCOUNT_MODEL'),
  }), maxRequests);
  const autoLoginApiKeyEnv = r.str('RUSTY_PINCH_CODEX_AUTO_LOGIN_API_KEY_ENV') ?? 'RUSTY_PINCH_OPENAI_API_KEY';
  // Account keys live in variables of any name (MY_KEY): redact their values everywhere.
  registerSecrets([...accounts.map((a) => (a.apiKeyEnv ? r.str(a.apiKeyEnv) : undefined)), r.str(autoLoginApiKeyEnv), r.str('RUSTY_PINCH_CODEX_CHATGPT_AUTH_JSON_B64')]);
  const operatorHome = r.str('CODEX_HOME') ?? resolve(r.str('HOME') ?? homedir(), '.codex');
  return {
    enabled: r.bool('RUSTY_PINCH_CODEX_ENABLED', true),
    cliBin: r.strKeepEmpty('RUSTY_PINCH_CODEX_CLI_BIN', 'codex'),
    cliArgs: r.args('RUSTY_PINCH_CODEX_CLI_ARGS', DEFAULT_CODEX_CLI_ARGS),
    cliArgsCustom: cliArgsRaw !== undefined,
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
    accounts,
    homeRoot: homeRoot ? resolve(cwd, homeRoot) : resolve(workspace, 'codex-homes'),
    accountsConfigured: (r.raw('RUSTY_PINCH_CODEX_ACCOUNTS') ?? '').split(';').some((e) => ACCOUNT_ID_PATTERN.test(e.trim().split('|')[0]?.trim() ?? '')),
    operatorHome: resolve(cwd, operatorHome),
    autoLogin: r.bool('RUSTY_PINCH_CODEX_AUTO_LOGIN', true),
    autoLoginMode: autoLoginMode(r),
    autoLoginApiKeyEnv,
    chatgptAuthFile: r.str('RUSTY_PINCH_CODEX_CHATGPT_AUTH_FILE'),
    chatgptAuthJsonB64: r.str('RUSTY_PINCH_CODEX_CHATGPT_AUTH_JSON_B64'),
    chatgptDeviceAuth: r.bool('RUSTY_PINCH_CODEX_CHATGPT_DEVICE_AUTH', true),
    loginTimeoutSecs: r.int('RUSTY_PINCH_CODEX_LOGIN_TIMEOUT_SECS', 300, { min: 1, max: 86_400 }),
  };
}
