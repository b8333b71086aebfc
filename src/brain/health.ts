// One account's health check: the CLI answers (`--version` or the configured args) and the
// account is logged in (`login status` in its own CODEX_HOME, a local check). A configured
// account that is not logged in is logged in by the bootstrap (login.ts) when allowed. Real
// runs correct this later (a 401 pins the account unhealthy until its login changes).
import { errorChain } from '../kernel/index.js';
import { classifyCodexRun } from '../providers/index.js';
import type { CodexAccountConfig, Settings } from '../config/index.js';
import { accountEnv, accountHome, loginCommand } from './accounts.js';
import { isChatgptHome, readAppServerQuota } from './app-server.js';
import type { AccountQuota } from './state.js';
import { autoLogin } from './login.js';
import { runFailure, type CodexRunner, type LoginHooks } from './run-types.js';

export { runFailure, type CodexRunner, type LoginHooks } from './run-types.js';

/** A check step never waits longer than this (or the run timeout, if shorter). */
export const HEALTHCHECK_STEP_TIMEOUT_MS = 20_000;

/** How the runner's spawn error starts (the original's text): the CLI is not there at all. */
export const SPAWN_FAILURE_PREFIX = 'failed to execute codex cli command';

export interface HealthResult {
  healthy: boolean;
  message: string | null;
  /** `login status` said (or auto-login made) the account logged in. */
  loggedIn?: boolean;
  /** A ChatGPT account's real quota, read from `codex app-server`. */
  quota?: AccountQuota;
}


/** `codex-cli 0.171.0` out of `--version` output; codex may print WARNING lines first. */
export function codexVersion(output: string): string | undefined {
  const m = /^\s*(codex(?:-cli)?\s+v?\d+\.\d+[^\s]*)\s*$/im.exec(output);
  return m?.[1];
}

export async function checkAccount(settings: Settings, account: CodexAccountConfig, runner: CodexRunner, signal?: AbortSignal, hooks: LoginHooks = {}): Promise<HealthResult> {
  const codex = settings.codex;
  const timeoutMs = Math.min(codex.timeoutSecs * 1000, HEALTHCHECK_STEP_TIMEOUT_MS);
  let env: Record<string, string>;
  try {
    env = accountEnv(settings, account);
  } catch (err) {
    return { healthy: false, message: errorChain(err) };
  }
  try {
    const version = await runner({ bin: codex.cliBin, args: codex.healthcheckArgs, env, timeoutMs, signal, cwd: settings.cwd });
    const vFail = runFailure(version, timeoutMs);
    if (vFail) return { healthy: false, message: vFail };
    const status = await loginStatus(settings, env, runner, timeoutMs, signal);
    let ok = status.ok;
    const boot = ok ? undefined : await autoLogin(settings, account, env, runner, hooks);
    if (boot?.ok) ok = true;
    if (ok) {
      // ChatGPT plans have a real quota: read it now, without a model turn.
      const quota = isChatgptHome(accountHome(settings, account)) ? await readAppServerQuota(codex.cliBin, env, timeoutMs, Date.now) : undefined;
      return { healthy: true, message: null, loggedIn: true, ...(quota ? { quota } : {}) };
    }
    return { healthy: false, message: `${boot?.message ?? status.message} (log this account in: ${loginCommand(account.id)})`, loggedIn: false };
  } catch (err) {
    return { healthy: false, message: errorChain(err) };
  }
}


/** `codex login status`: a local check of the home's credentials (exit 0 = logged in). */
export async function loginStatus(settings: Settings, env: Record<string, string>, runner: CodexRunner, timeoutMs: number, signal?: AbortSignal): Promise<{ ok: boolean; message: string | null }> {
  const res = await runner({ bin: settings.codex.cliBin, args: ['login', 'status'], env, timeoutMs, signal, cwd: settings.cwd });
  const failure = classifyCodexRun(res, { timeoutMs, what: 'codex login status' });
  return failure ? { ok: false, message: failure.message } : { ok: true, message: null };
}
