// Retry policy for HTTP providers: which failures are transient, how long to wait between
// attempts (the original's capped exponential backoff, plus jitter), and `Retry-After`.

/** Statuses worth another attempt: timeouts, conflicts, too early, rate limits, server errors. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 425 || status === 429 || status >= 500;
}

const TRANSIENT_WORDS = ['rate limit', 'temporarily', 'timeout', 'timed out', 'try again', 'overloaded', 'service unavailable'];

/** The original's message classifier (reference §5.4): a provider error text that reads transient. */
export function isTransientMessage(message: string): boolean {
  const m = message.toLowerCase();
  return TRANSIENT_WORDS.some((w) => m.includes(w));
}

/**
 * The original's `compute_retry_delay_ms`: `min(max(base,1) * 2^min(i,12), max(maxBackoff, max(base,1)))`,
 * where `i` is the 0-based index of the attempt that failed. No jitter here.
 */
export function computeRetryDelayMs(baseMs: number, maxBackoffMs: number, attemptIndex: number): number {
  const base = Math.max(baseMs, 1);
  const exp = Math.min(Math.max(attemptIndex, 0), 12);
  return Math.min(base * 2 ** exp, Math.max(maxBackoffMs, base));
}

/** Spreads a delay over [75 %, 100 %] of its value so that clients retrying together drift apart. */
export function withJitter(delayMs: number, random: () => number = Math.random): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(delayMs * (0.75 + 0.25 * r));
}

/**
 * The longest wait a `Retry-After` may impose. A server asking for more than a minute would
 * stall a chat turn far beyond any useful deadline, so longer requests are capped at 60 s.
 */
export const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Reads `retry-after-ms` (milliseconds) or `Retry-After` (delta seconds or an HTTP date).
 * Returns the wait in ms, capped at MAX_RETRY_AFTER_MS, or undefined when absent or unreadable.
 */
export function parseRetryAfter(get: (name: string) => string | null | undefined, now: number = Date.now()): number | undefined {
  const ms = get('retry-after-ms')?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return cap(Number(ms));
  const raw = get('retry-after')?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return cap(Number(raw) * 1000);
  // An HTTP date must name a day/month, not just a number in another form.
  if (!/[a-z]/i.test(raw)) return undefined;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) return undefined;
  return cap(at - now);
}

function cap(ms: number): number | undefined {
  if (Number.isNaN(ms)) return undefined;
  return Math.min(Math.max(Math.round(ms), 0), MAX_RETRY_AFTER_MS);
}

/**
 * The wait before the next attempt: the server's `Retry-After` when it gave one (already
 * capped), otherwise the jittered backoff for the attempt that failed.
 */
export function nextDelayMs(policy: { baseMs: number; maxBackoffMs: number }, attemptIndex: number, retryAfterMs: number | undefined, random?: () => number): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  return withJitter(computeRetryDelayMs(policy.baseMs, policy.maxBackoffMs, attemptIndex), random);
}

/** The kernel's abortable sleep, re-exported for this module's callers. */
export { sleep } from '../kernel/index.js';
