// Cross-process lock around read-modify-write of shared state files (telemetry, pulse state,
// codex queue). Uses proper-lockfile (mkdir-based, stale detection), loaded lazily.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

export interface LockOptions {
  /** A lock older than this is considered abandoned by a crashed process. Default 10 s. */
  staleMs?: number;
  /** How long to keep trying before giving up. Default 15 s. */
  waitMs?: number;
}

/** Runs `fn` while holding an exclusive lock on `<path>.lock`. */
export async function withFileLock<T>(path: string, fn: () => Promise<T> | T, options: LockOptions = {}): Promise<T> {
  const { default: lockfile } = await import('proper-lockfile');
  mkdirSync(dirname(path), { recursive: true });
  const waitMs = options.waitMs ?? 15_000;
  const deadline = Date.now() + waitMs;
  let release: (() => Promise<void>) | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      release = await lockfile.lock(path, {
        realpath: false,
        lockfilePath: `${path}.lock`,
        stale: options.staleMs ?? 10_000,
        update: Math.max(1000, Math.floor((options.staleMs ?? 10_000) / 2)),
        retries: 0,
      });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED' || Date.now() > deadline) throw err;
      // Jittered short waits: contention here is brief (a few ms of file I/O).
      await new Promise((r) => setTimeout(r, Math.min(50, 2 + attempt) * (0.5 + Math.random())));
    }
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}

/**
 * Runs `fn` under the same lock if it is free right now, synchronously; returns false (without
 * running `fn`) when another process holds it. For rare repairs on a synchronous read path.
 */
export function tryWithFileLockSync(path: string, fn: () => void, options: LockOptions = {}): boolean {
  // Loaded only here (a rare path): the package is CommonJS and external to the bundle.
  const lockfile = createRequire(import.meta.url)('proper-lockfile') as typeof import('proper-lockfile');
  mkdirSync(dirname(path), { recursive: true });
  let release: () => void;
  try {
    release = lockfile.lockSync(path, { realpath: false, lockfilePath: `${path}.lock`, stale: options.staleMs ?? 10_000 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') return false;
    throw err;
  }
  try {
    fn();
    return true;
  } finally {
    try {
      release();
    } catch {
      // Already released (compromised as stale): nothing left to undo.
    }
  }
}
