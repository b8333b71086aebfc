// doctor's Codex part: the CLI answers and which version it is (not codex's WARNING line), and
// every account can authenticate: its home's `codex login status` (a local check that writes
// nothing), a key in the environment, or what the last real run said (a 401 in the pool state).
// Each finding names the command that fixes it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { redactSecrets } from '../kernel/index.js';
import type { CodexAccountConfig } from './codex-settings.js';
import { findExecutable, runProbe } from './probe.js';
import type { Settings } from './settings.js';

export const CODEX_INSTALL_HINT =
  'Install the Codex CLI (npm install -g @openai/codex) and log in (codex login), or choose another provider: RUSTY_PINCH_PROVIDER=local (offline), openai, openrouter, groq or compatible.';

export interface CodexDoctorResult {
  cli: string;
  fields: Array<[string, string]>;
  checks: Array<{ level: 'warning' | 'error'; message: string; hint?: string }>;
}

/** `codex-cli 0.171.0` from `--version` output (codex may print WARNING lines first). */
export function codexVersionLine(text: string): string | undefined {
  return /^\s*(codex(?:-cli)?\s+v?\d+\.\d+\S*)\s*$/im.exec(text)?.[1];
}

function homeOf(s: Settings, a: CodexAccountConfig): string {
  return s.codex.accountsConfigured ? join(s.codex.homeRoot, a.id) : s.codex.operatorHome;
}

/** Per-account facts the pool recorded (last error kind), read without the lock. */
function poolState(s: Settings): Record<string, { healthy?: boolean; last_error_kind?: string | null; cooldown_until_ms?: number | null }> {
  try {
    const v = JSON.parse(readFileSync(join(s.workspace, 'codex', 'state.json'), 'utf8')) as { accounts?: Record<string, never> };
    return v.accounts && typeof v.accounts === 'object' ? v.accounts : {};
  } catch {
    return {};
  }
}

export async function doctorCodex(s: Settings, timeoutMs: number): Promise<CodexDoctorResult> {
  const out: CodexDoctorResult = { cli: 'not checked', fields: [], checks: [] };
  const error = (message: string, hint?: string) => out.checks.push({ level: 'error', message, ...(hint ? { hint } : {}) });
  const warn = (message: string, hint?: string) => out.checks.push({ level: 'warning', message, ...(hint ? { hint } : {}) });
  if (!s.codex.enabled) {
    error('RUSTY_PINCH_PROVIDER=codex but RUSTY_PINCH_CODEX_ENABLED=false');
    return out;
  }
  if (!s.codex.cliBin) {
    error('Codex enabled but RUSTY_PINCH_CODEX_CLI_BIN is empty', CODEX_INSTALL_HINT);
    return out;
  }
  const path = findExecutable(s.codex.cliBin, s.env.PATH ?? process.env.PATH);
  if (!path) {
    out.cli = 'missing';
    error(`Codex CLI '${s.codex.cliBin}' was not found on PATH`, CODEX_INSTALL_HINT);
    return out;
  }
  const base = { PATH: s.env.PATH ?? process.env.PATH ?? '', HOME: s.env.HOME ?? process.env.HOME ?? '' };
  const probe = await runProbe(path, ['--version'], timeoutMs, { ...base, CODEX_HOME: s.codex.operatorHome });
  const version = codexVersionLine(probe.text);
  out.cli = probe.ok ? `ok (${version ?? probe.output})` : `failed (${probe.output})`;
  if (!probe.ok) {
    error(`Codex CLI '${path}' did not answer --version: ${probe.output}`, CODEX_INSTALL_HINT);
    return out;
  }
  const state = poolState(s);
  const results = await Promise.all(
    s.codex.accounts.map(async (a) => {
      const home = homeOf(s, a);
      const key = a.apiKeyEnv ? s.env[a.apiKeyEnv]?.trim() : undefined;
      const st = await runProbe(path, ['login', 'status'], timeoutMs, { ...base, CODEX_HOME: home });
      return { a, home, key, loggedIn: st.ok, text: st.text };
    }),
  );
  for (const { a, home, key, loggedIn, text } of results) {
    const fix = s.codex.accountsConfigured ? `rusty-pinch codex login --account ${a.id}` : `codex login (or: rusty-pinch codex login --account ${a.id})`;
    const how = /ChatGPT/i.test(text) ? 'ChatGPT login' : /API key/i.test(text) ? 'API key login' : 'logged in';
    const recorded = state[a.id];
    let status: string;
    if (a.apiKeyEnv && !key) {
      status = `key variable ${a.apiKeyEnv} is not set`;
      error(`codex account '${a.id}': ${a.apiKeyEnv} is not set`, `Set ${a.apiKeyEnv}, or remove it from RUSTY_PINCH_CODEX_ACCOUNTS.`);
    } else if (recorded?.last_error_kind === 'auth' && recorded.healthy === false) {
      status = 'login refused by the API (401)';
      error(`codex account '${a.id}': the API refused its login on the last run (401)`, `Log it in again: ${fix}`);
    } else if (loggedIn) {
      status = `${how} (${home})`;
    } else if (key) {
      status = `key from ${a.apiKeyEnv}${s.codex.accountsConfigured && s.codex.autoLogin && s.codex.autoLoginMode !== 'off' ? ' (logged in automatically on first use)' : ''}`;
    } else if (s.codex.accountsConfigured && s.codex.autoLogin && s.codex.autoLoginMode === 'api-key' && s.env[s.codex.autoLoginApiKeyEnv]?.trim()) {
      status = `key from ${s.codex.autoLoginApiKeyEnv} (logged in automatically on first use)`;
    } else if (s.codex.accountsConfigured && s.codex.autoLogin && s.codex.autoLoginMode === 'chatgpt' && (s.codex.chatgptAuthFile || s.codex.chatgptAuthJsonB64)) {
      status = 'ChatGPT auth material given (seeded on first use)';
    } else {
      status = 'not logged in';
      error(`codex account '${a.id}' is not logged in (${home})`, `Run: ${fix}${s.codex.accountsConfigured ? ' (add --with-api-key or --device-auth on a headless host)' : ' (codex login --device-auth on a headless host)'}`);
    }
    if (recorded?.cooldown_until_ms && recorded.cooldown_until_ms > Date.now()) {
      warn(`codex account '${a.id}' is out of quota until ${new Date(recorded.cooldown_until_ms).toISOString()}`);
    }
    out.fields.push([`codex_account_${a.id}`, redactSecrets(status)]);
  }
  return out;
}
