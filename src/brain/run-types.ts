// What brain modules share about running the CLI: the runner seam (tests swap in fakes), the
// login hooks, and a finished run's failure text (by the one classifier in providers/).
import { classifyCodexRun, type CodexRunOptions, type CodexRunResult } from '../providers/index.js';

export type CodexRunner = (opts: CodexRunOptions) => Promise<CodexRunResult>;

export interface LoginHooks {
  /** Shows a device-auth URL and code to the operator (terminal, or the notify channel under serve). */
  onDeviceCode?: (accountId: string, url: string, code: string) => void | Promise<void>;
}

/** The error text for a finished run, or undefined when it succeeded (exit 0). */
export function runFailure(res: CodexRunResult, timeoutMs: number, what = 'codex cli'): string | undefined {
  return classifyCodexRun(res, { timeoutMs, what })?.message;
}
