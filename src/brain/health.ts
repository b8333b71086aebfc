// One account's health check: the CLI answers (`--version` or the configured args) and the
// account is logged in (`login status` with its own CODEX_HOME). Each step has a timeout.
import { errorChain } from '../kernel/index.js';
import type { CodexRunOptions, CodexRunResult } from '../providers/index.js';
import type { CodexAccountConfig, Settings } from '../config/index.js';
import { accountEnv } from './accounts.js';

export type CodexRunner = (opts: CodexRunOptions) => Promise<CodexRunResult>;

/** A check step never waits longer than this (or the run timeout, if shorter). */
export const HEALTHCHECK_STEP_TIMEOUT_MS = 20_000;

/** How the runner's spawn error starts (the original's text): the CLI is not there at all. */
export const SPAWN_FAILURE_PREFIX = 'failed to execute codex cli command';

export interface HealthResult {
  healthy: boolean;
  message: string | null;
}

/** The error text for a finished run, or undefined when it succeeded (exit 0). */
export function runFailure(res: CodexRunResult, timeoutMs: number, what = 'codex cli'): string | undefined {
  if (res.timedOut) return `${what} timed out after ${Math.round(timeoutMs / 1000)}s and was stopped`;
  if (res.exitCode === 0) return undefined;
  const code = res.exitCode ?? -1;
  let detail = stripControl(res.stderr.trim() || res.stdout.trim()).trim();
  if (detail.length > 2000) detail = `…${detail.slice(-2000)}`;
  return detail ? `${what} exited with code ${code}: ${detail}` : `${what} exited with code ${code}`;
}

/** Control characters removed, except newline and tab (as the original). */
function stripControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}

export async function checkAccount(settings: Settings, account: CodexAccountConfig, runner: CodexRunner, signal?: AbortSignal): Promise<HealthResult> {
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
    const login = await runner({ bin: codex.cliBin, args: ['login', 'status'], env, timeoutMs, signal, cwd: settings.cwd });
    const lFail = runFailure(login, timeoutMs, 'codex login status');
    if (lFail) return { healthy: false, message: `${lFail} (log this account in: rusty-pinch codex login --account ${account.id})` };
    return { healthy: true, message: null };
  } catch (err) {
    return { healthy: false, message: errorChain(err) };
  }
}
