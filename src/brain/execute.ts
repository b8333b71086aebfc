// Runs one task on one account (own env, hard timeout, process group killed) and applies the
// outcome to the persisted account state: success keeps the counted use; failure releases it
// and marks the account unhealthy, or, for a rate-limit answer, uses up its window instead.
import { AppError, errorChain } from '../kernel/index.js';
import { buildCodexExecArgv, parseCodexOutput } from '../providers/index.js';
import type { CodexAccountConfig, Settings } from '../config/index.js';
import { accountEnv } from './accounts.js';
import { runFailure, type CodexRunner } from './health.js';
import { freshAccount, type PoolState } from './state.js';

export type RunOutcome =
  | { ok: true; output: string; latencyMs: number }
  | { ok: false; message: string; aborted: boolean; hint?: string };

/** Text of a failed run that means "this account is out of quota" rather than "broken". */
const RATE_LIMITED = /\b429\b|rate[ _-]?limit|too many requests|usage limit|quota exceeded|insufficient_quota/i;

export async function runOnAccount(settings: Settings, account: CodexAccountConfig, prompt: string, runner: CodexRunner, signal?: AbortSignal): Promise<RunOutcome> {
  const codex = settings.codex;
  const timeoutMs = codex.timeoutSecs * 1000;
  try {
    const env = accountEnv(settings, account);
    const { args, stdin } = buildCodexExecArgv(codex, account.model ?? codex.model, prompt);
    const res = await runner({ bin: codex.cliBin, args, stdin, env, timeoutMs, signal, cwd: settings.cwd });
    if (signal?.aborted && !res.timedOut) return { ok: false, message: 'codex cli run was aborted and stopped', aborted: true };
    const failure = runFailure(res, timeoutMs);
    if (failure) return { ok: false, message: jsonFailure(res.exitCode, res.stdout) ?? failure, aborted: false };
    return { ok: true, output: parseCodexOutput(res.stdout, res.stderr), latencyMs: res.latencyMs };
  } catch (err) {
    return { ok: false, message: errorChain(err), aborted: false, hint: err instanceof AppError ? err.hint : undefined };
  }
}

/**
 * Records a finished run of a reserved use (`reservedAt`) in the state. Returns true when the
 * failure looked like a rate limit (the account then counts as used up for one window).
 */
export function applyOutcome(state: PoolState, account: CodexAccountConfig, reservedAt: number, outcome: RunOutcome, now: number, windowMs: number): boolean {
  const acc = (state.accounts[account.id] ??= freshAccount());
  if (outcome.ok) {
    acc.healthy = true;
    acc.last_error = null;
    acc.cooldown_until_ms = null;
    return false;
  }
  const i = acc.uses.indexOf(reservedAt);
  if (i >= 0) acc.uses.splice(i, 1);
  if (outcome.aborted) return false;
  acc.last_error = outcome.message;
  if (RATE_LIMITED.test(outcome.message)) {
    // Out of quota, not broken: a `--version` check must not put it back to work early.
    acc.cooldown_until_ms = now + windowMs;
    return true;
  }
  acc.healthy = false;
  return false;
}

/** For `--json` runs: the failed turn's own message instead of the raw event lines. */
function jsonFailure(exitCode: number | null, stdout: string): string | undefined {
  if (exitCode === null || !stdout.trimStart().startsWith('{')) return undefined;
  try {
    parseCodexOutput(stdout, '');
    return undefined;
  } catch (err) {
    return `codex cli exited with code ${exitCode}: ${err instanceof Error ? err.message : String(err)}`;
  }
}
