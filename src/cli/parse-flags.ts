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
