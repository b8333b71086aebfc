// Flag value parsers shared by every command (the original's validators, reference §3).
import { InvalidArgumentError } from 'commander';

/** Whole number >= 1 (`--max-messages`, `--interval-secs`, …). */
export function positiveInt(value: string): number {
  const t = value.trim();
  if (!/^\d+$/.test(t)) throw new InvalidArgumentError(`invalid positive integer: ${value}`);
  const n = Number(t);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`invalid positive integer: ${value}`);
  if (n < 1) throw new InvalidArgumentError('value must be >= 1');
  return n;
}

/** HTTP status code in 100..=599. */
export function httpStatus(value: string): number {
  const t = value.trim();
  if (!/^\d+$/.test(t)) throw new InvalidArgumentError(`invalid HTTP status code: ${value}`);
  const n = Number(t);
  if (n < 100 || n > 599) throw new InvalidArgumentError('http status code must be in 100..=599');
  return n;
}

/** Text that must not be blank (`--message`, `--prompt`, `--description`…); trimmed. */
export function nonEmpty(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('must not be empty');
  return value;
}

/**
 * Runs a domain validator on a flag value before any work starts: what it refuses (a
 * ValidationError, or a PulseError about the input) becomes a usage error (exit 2) with the
 * validator's own message, and nothing was changed. `refused` picks further error classes.
 */
export async function asUsage<T>(check: () => T | Promise<T>, refused: (err: unknown) => boolean = () => false, prefix = ''): Promise<T> {
  const { UsageError, ValidationError } = await import('../kernel/index.js');
  try {
    return await check();
  } catch (err) {
    if (err instanceof ValidationError || refused(err)) throw new UsageError(prefix + (err as Error).message);
    throw err;
  }
}

/**
 * `--session` is checked with the store's own rule before any work starts, so a bad id is a
 * usage error (exit 2) that changes nothing. Async: the store is imported only when needed.
 */
export async function checkSessionId(id: string): Promise<void> {
  const { validateSessionId } = await import('../store/index.js');
  await asUsage(() => validateSessionId(id), undefined, 'invalid --session: ');
}
