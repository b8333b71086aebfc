// Timing helpers shared by the channel adapters: capped exponential backoff with jitter and a
// sleep that an AbortSignal cuts short.

/** Delay for the `attempt`-th consecutive failure (0-based): base·2^attempt, capped, ±20 % jitter. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(0, Math.round(exp * (0.8 + 0.4 * random())));
}

/** The kernel's abortable sleep, re-exported for this module's callers. */
export { sleep } from '../kernel/index.js';

/** An AbortSignal that aborts when any of `signals` does. */
export function anySignal(signals: AbortSignal[]): { signal: AbortSignal; dispose: () => void } {
  const ctl = new AbortController();
  const onAbort = (): void => ctl.abort();
  for (const s of signals) {
    if (s.aborted) {
      ctl.abort();
      break;
    }
    s.addEventListener('abort', onAbort, { once: true });
  }
  return { signal: ctl.signal, dispose: () => signals.forEach((s) => s.removeEventListener('abort', onAbort)) };
}
