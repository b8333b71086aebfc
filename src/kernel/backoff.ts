// The one backoff: capped exponential delay with "equal jitter" (half fixed, half random), used
// by channel reconnects, Telegram sends, the serve channel supervisor and the outbox drainer.
// (Provider retries keep the original's documented formula in providers/retry.ts.)

/** Delay for the `attempt`-th consecutive failure (0-based): base·2^attempt capped at maxMs, then half of it jittered. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.round(exp / 2 + (exp / 2) * Math.min(1, Math.max(0, random())));
}
