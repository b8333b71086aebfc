// THE Codex failure classifier: what a finished `codex` run means. The CLI exits 1 for every
// failure and only its message text tells them apart (checked on @openai/codex 0.171, pinned by
// test/real-codex.test.ts), so the texts are matched here and nowhere else.
import { redactSecrets } from '../kernel/index.js';
import { jsonFailure, stripControl } from './codex-output.js';

/** What a finished run looks like here (structurally codex-runner's CodexRunResult; no import cycle). */
type CodexRunResult = { exitCode: number | null; stdout: string; stderr: string; timedOut: boolean };

/**
 * auth: the account cannot authenticate (401, not logged in) → unhealthy until logged in again.
 * quota: ChatGPT usage limit or API quota exhausted → cooldown until the reset time.
 * rate_limit: 429 after the CLI's own retries → cooldown for a window.
 * network / timeout: the account is fine; the way to the API is not.
 * spawn: the CLI could not be started. other: anything else (the account is suspect).
 */
export type CodexFailureKind = 'auth' | 'quota' | 'rate_limit' | 'network' | 'timeout' | 'aborted' | 'usage' | 'other';

export interface CodexFailure {
  kind: CodexFailureKind;
  /** One line for logs, state and `codex status`: secrets redacted, control characters removed. */
  message: string;
  /** For quota: when the CLI said the limit resets (epoch ms), if it said. */
  resetsAtMs?: number;
}

const AUTH = /\b401\b|unauthori[sz]ed|not logged in|invalid[_ ]api[_ ]key|incorrect api key|refresh token (?:was already used|has expired|is invalid)|please (?:log|sign) in again|token_expired/i;
const QUOTA = /usage limit|quota exceeded|insufficient_quota|exceeded your current quota|billing details/i;
const RATE = /\b429\b|too many requests|rate[ _-]?limit/i;
const NETWORK = /waiting for network|error sending request|failed to lookup address|connection (?:refused|reset|failed)|network is unreachable|dns error|stream disconnected/i;
/** exec's clap error for a flag an older CLI does not know (used for the `--json` fallback). */
const USAGE = /unexpected argument '([^']+)'|unrecognized (?:option|argument)|found argument '([^']+)' which wasn't expected/i;

/** Classifies a failure text (the whole output is fine: the strongest signal wins). */
export function classifyCodexText(text: string): CodexFailureKind {
  if (QUOTA.test(text)) return 'quota';
  if (AUTH.test(text)) return 'auth';
  if (RATE.test(text)) return 'rate_limit';
  if (NETWORK.test(text)) return 'network';
  if (USAGE.test(text)) return 'usage';
  return 'other';
}

/** True when exec refused `flag` as unknown (an older CLI): the caller retries without it. */
export function rejectsFlag(res: CodexRunResult, flag: string): boolean {
  if (res.exitCode === 0 || res.timedOut) return false;
  const text = `${res.stderr}\n${res.stdout}`;
  return USAGE.test(text) && text.includes(flag);
}

/** An error line keeps the end of the CLI's output (where the reason usually is). */
const MAX_DETAIL_CHARS = 2000;

/** The CLI's WARNING noise (PATH aliases under /tmp) and transport fallbacks are not the reason. */
const NOISE = /^(?:WARNING: proceeding, even though|.*failed to connect to Responses WebSocket|.*failed to refresh available models|Reading (?:API key|prompt) from stdin)/;

function detailOf(res: CodexRunResult): string {
  const fromJson = jsonFailure(res.stdout);
  const raw = fromJson ?? (res.stderr.trim() || res.stdout.trim());
  let detail = stripControl(raw)
    .split('\n')
    .filter((l) => l.trim() && !NOISE.test(l.trim()))
    .join('\n')
    .trim();
  if (detail.length > MAX_DETAIL_CHARS) detail = `…${detail.slice(-MAX_DETAIL_CHARS)}`;
  return redactSecrets(detail);
}

/**
 * The failure a finished run stands for, or undefined when it succeeded (exit 0). `what` names
 * the command in the message (`codex cli`, `codex login status`).
 */
export function classifyCodexRun(res: CodexRunResult, opts: { timeoutMs: number; aborted?: boolean; what?: string; now?: number }): CodexFailure | undefined {
  const what = opts.what ?? 'codex cli';
  if (res.timedOut) return { kind: 'timeout', message: `${what} timed out after ${Math.round(opts.timeoutMs / 1000)}s and was stopped` };
  if (opts.aborted) return { kind: 'aborted', message: `${what} run was aborted and stopped` };
  if (res.exitCode === 0) {
    // exit 0 with a failed turn in --json output still failed.
    const failed = jsonFailure(res.stdout);
    if (failed === undefined || hasAnswer(res.stdout)) return undefined;
  }
  const code = res.exitCode ?? -1;
  const detail = detailOf(res);
  const kind = classifyCodexText(`${detail}\n${res.stderr.slice(-4000)}`);
  const failure: CodexFailure = { kind, message: detail ? `${what} exited with code ${code}: ${detail}` : `${what} exited with code ${code}` };
  if (kind === 'quota') {
    const at = usageLimitResetAt(detail, opts.now ?? Date.now());
    if (at !== undefined) failure.resetsAtMs = at;
  }
  return failure;
}

function hasAnswer(stdout: string): boolean {
  return /"type":"item\.completed".*"type":"agent_message"/.test(stdout) && /"type":"turn\.completed"/.test(stdout);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * The reset moment in a usage-limit message, local time as the CLI prints it:
 * `try again at 7:00 PM` (today, or tomorrow when already past) or
 * `try again at Mar 17th, 2030 5:46 PM`. Undefined when there is none.
 */
export function usageLimitResetAt(text: string, now: number): number | undefined {
  const m = /try again at\s+(?:([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\s+)?(\d{1,2}):(\d{2})\s*([AaPp][Mm])?/.exec(text);
  if (!m) return undefined;
  let hour = Number(m[4]);
  const minute = Number(m[5]);
  const ampm = m[6]?.toLowerCase();
  if (ampm === 'pm' && hour < 12) hour += 12;
  if (ampm === 'am' && hour === 12) hour = 0;
  if (hour > 23 || minute > 59) return undefined;
  if (m[1] && m[2] && m[3]) {
    const month = MONTHS.indexOf(m[1].toLowerCase());
    if (month < 0) return undefined;
    const at = new Date(Number(m[3]), month, Number(m[2]), hour, minute).getTime();
    return Number.isFinite(at) ? at : undefined;
  }
  const d = new Date(now);
  d.setHours(hour, minute, 0, 0);
  if (d.getTime() <= now) d.setDate(d.getDate() + 1);
  return d.getTime();
}
