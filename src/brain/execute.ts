// Runs one task on one account (own env, prompt on stdin, empty scratch dir, hard timeout,
// process group killed) and applies the classified outcome to the persisted account state:
// auth → unhealthy until logged in again; quota → cooldown until the reset; rate limit →
// cooldown for a window; network/timeout → the account stays healthy (the way is broken).
import { join } from 'node:path';
import { AppError, errorChain } from '../kernel/index.js';
import { buildCodexExecArgv, classifyCodexRun, codexThreadId, codexUsage, parseCodexOutput, rejectsFlag, type CodexFailureKind, type CodexUsage } from '../providers/index.js';
import type { CodexAccountConfig, Settings } from '../config/index.js';
import { accountEnv, accountHome, loginCommand, loginFingerprint } from './accounts.js';
import type { CodexRunner } from './run-types.js';
import { takeRolloutQuota } from './quota.js';
import { ensurePrivateDir, freshAccount, type AccountQuota, type PoolState } from './state.js';

export type RunOutcome =
  | { ok: true; output: string; latencyMs: number; usage?: CodexUsage; quota?: AccountQuota }
  | { ok: false; message: string; kind: CodexFailureKind | 'setup'; aborted: boolean; hint?: string; resetsAtMs?: number };

/** Failures another account may not have: the task is tried there before it is queued. */
export function failsOverOn(kind: string): boolean {
  return kind === 'auth' || kind === 'quota' || kind === 'rate_limit';
}

/** CLIs found to lack `--json` (an older codex): run plain from then on, in this process. */
const plainBins = new Set<string>();

export async function runOnAccount(settings: Settings, account: CodexAccountConfig, prompt: string, runner: CodexRunner, signal?: AbortSignal): Promise<RunOutcome> {
  const codex = settings.codex;
  const timeoutMs = codex.timeoutSecs * 1000;
  try {
    const env = accountEnv(settings, account);
    const scratchDir = join(settings.workspace, 'codex', 'scratch');
    ensurePrivateDir(scratchDir);
    const run = (plain: boolean) => {
      const { args, stdin } = buildCodexExecArgv(codex, account.model ?? codex.model, prompt, { scratchDir, plain });
      return runner({ bin: codex.cliBin, args, stdin, env, timeoutMs, signal, cwd: settings.cwd });
    };
    let plain = plainBins.has(codex.cliBin);
    let res = await run(plain);
    if (!plain && codex.cliArgs.includes('--json') && rejectsFlag(res, '--json')) {
      plainBins.add(codex.cliBin);
      plain = true;
      res = await run(true);
    }
    const aborted = Boolean(signal?.aborted && !res.timedOut);
    const failure = classifyCodexRun(res, { timeoutMs, aborted });
    if (failure) {
      const hint = failure.kind === 'auth' ? `Log this account in again: ${loginCommand(account.id)}` : undefined;
      return { ok: false, message: failure.message, kind: failure.kind, aborted: failure.kind === 'aborted', hint, resetsAtMs: failure.resetsAtMs };
    }
    const output = parseCodexOutput(res.stdout, res.stderr);
    const quota = takeRolloutQuota(accountHome(settings, account), codexThreadId(res.stdout), Date.now());
    return { ok: true, output, latencyMs: res.latencyMs, usage: codexUsage(res.stdout), quota };
  } catch (err) {
    // Could not even start: key variable missing, CLI not installed.
    return { ok: false, message: errorChain(err), kind: 'setup', aborted: false, hint: err instanceof AppError ? err.hint : undefined };
  }
}

/**
 * Records a finished run of a reserved use (`reservedAt`) in the state. Returns true when the
 * account was put in cooldown (quota or rate limit) rather than marked broken.
 */
export function applyOutcome(state: PoolState, account: CodexAccountConfig, reservedAt: number, outcome: RunOutcome, now: number, windowMs: number, settings?: Settings): boolean {
  const acc = (state.accounts[account.id] ??= freshAccount());
  if (outcome.ok) {
    acc.healthy = true;
    acc.last_error = null;
    acc.last_error_kind = null;
    acc.cooldown_until_ms = null;
    acc.auth_failed_fingerprint = null;
    if (outcome.quota) acc.quota = outcome.quota;
    return false;
  }
  const i = acc.uses.indexOf(reservedAt);
  if (i >= 0) acc.uses.splice(i, 1);
  if (outcome.aborted) return false;
  acc.last_error = outcome.hint ? `${outcome.message} (${outcome.hint})` : outcome.message;
  acc.last_error_kind = outcome.kind;
  switch (outcome.kind) {
    case 'quota':
      // Out of quota until the reset the CLI named (else one window): a check must not wake it early.
      acc.cooldown_until_ms = outcome.resetsAtMs !== undefined && outcome.resetsAtMs > now ? outcome.resetsAtMs : now + windowMs;
      return true;
    case 'rate_limit':
      acc.cooldown_until_ms = now + windowMs;
      return true;
    case 'auth':
      acc.healthy = false;
      if (settings) acc.auth_failed_fingerprint = loginFingerprint(settings, account);
      return false;
    case 'network':
    case 'timeout':
      // The account is not to blame: it stays usable (the next run or check will tell).
      return false;
    default:
      acc.healthy = false;
      return false;
  }
}
