// `codex login --account <id>`: the CLI's own login, run inside that account's CODEX_HOME.
// Interactive by default (inherits the terminal); `--with-api-key` pipes the key from the
// account's variable to stdin, never argv.
import { spawn } from 'node:child_process';
import { ConfigError, ValidationError } from '../kernel/index.js';
import { runCodexProcess } from '../providers/index.js';
import type { Settings } from '../config/index.js';
import { accountEnv, accountHome } from './accounts.js';
import { runFailure, type CodexRunner } from './health.js';
import { ensurePrivateDir } from './state.js';

export interface LoginResult {
  status: 'ok' | 'error';
  account_id: string;
  codex_home: string;
  exit_code: number | null;
  message: string | null;
}

/** Hard limit for an interactive login (a browser round trip), at least the run timeout. */
const INTERACTIVE_LOGIN_MIN_MS = 15 * 60_000;

export async function loginAccount(settings: Settings, accountId: string, options: { withApiKey: boolean; runner?: CodexRunner }): Promise<LoginResult> {
  const codex = settings.codex;
  const account = codex.accounts.find((a) => a.id === accountId);
  if (!account) throw new ValidationError(`unknown codex account '${accountId}' (configured: ${codex.accounts.map((a) => a.id).join(', ')})`, { hint: 'Accounts come from RUSTY_PINCH_CODEX_ACCOUNTS (id|api_key_env|max_requests|model;…).' });
  const home = accountHome(settings, account);
  ensurePrivateDir(home);
  if (options.withApiKey) {
    if (!account.apiKeyEnv) throw new ConfigError(`codex account '${account.id}' names no api_key_env`, { hint: 'Give it one in RUSTY_PINCH_CODEX_ACCOUNTS (id|API_KEY_VAR|max|model), or log in interactively without --with-api-key.' });
    const env = accountEnv(settings, account); // throws when the variable is unset
    const key = env[account.apiKeyEnv]!;
    const timeoutMs = codex.timeoutSecs * 1000;
    const res = await (options.runner ?? runCodexProcess)({ bin: codex.cliBin, args: ['login', '--with-api-key'], stdin: `${key}\n`, env, timeoutMs, cwd: settings.cwd });
    const failure = runFailure(res, timeoutMs, 'codex login');
    return { status: failure ? 'error' : 'ok', account_id: account.id, codex_home: home, exit_code: res.exitCode, message: failure ?? (res.stdout.trim() || res.stderr.trim() || null) };
  }
  const env = accountEnv(settings, account);
  const timeoutMs = Math.max(INTERACTIVE_LOGIN_MIN_MS, codex.timeoutSecs * 1000);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(codex.cliBin, ['login'], { env, stdio: 'inherit', cwd: settings.cwd });
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 1500).unref();
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new ConfigError(`failed to execute codex cli command '${codex.cliBin}'`, { cause: err }));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  return { status: exitCode === 0 ? 'ok' : 'error', account_id: account.id, codex_home: home, exit_code: exitCode, message: exitCode === 0 ? null : `codex login exited with code ${exitCode ?? -1}` };
}
