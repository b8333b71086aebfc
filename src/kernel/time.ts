// Timestamps in the original's shape: RFC 3339 with `+00:00` (chrono's to_rfc3339).

/** e.g. `2026-02-20T10:11:12.123+00:00`. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace('Z', '+00:00');
}

export function rfc3339Now(): string {
  return rfc3339(new Date());
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
