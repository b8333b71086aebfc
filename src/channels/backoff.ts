// Timing helpers shared by the channel adapters: capped exponential backoff with jitter and a
// sleep that an AbortSignal cuts short.

/** Delay for the `attempt`-th consecutive failure (0-based): base·2^attempt, capped, ±20 % jitter. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(0, Math.round(exp * (0.8 + 0.4 * random())));
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

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
