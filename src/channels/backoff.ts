// Timing helpers shared by the channel adapters: the kernel's backoff and abortable sleep, and
// a signal that aborts when any of several does.

/** The kernel's backoff and abortable sleep, re-exported for this module's callers. */
export { backoffDelay, sleep } from '../kernel/index.js';

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
