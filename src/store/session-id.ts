// Session ids → file names. The original's sanitisation (non [A-Za-z0-9_-] → `_`) is kept so
// existing data files are found; ids that could escape the folder or are absurd are refused.
import { ValidationError } from '../kernel/index.js';

export const MAX_SESSION_ID_CHARS = 200;

/** Throws a ValidationError for ids that are empty, too long, or contain separators, `..` or control chars. */
export function validateSessionId(id: string): void {
  if (typeof id !== 'string' || id.length === 0) throw new ValidationError('session id is empty');
  let n = 0;
  for (const _ of id) n++;
  if (n > MAX_SESSION_ID_CHARS) throw new ValidationError(`session id is too long (max ${MAX_SESSION_ID_CHARS} characters)`);
  if (/[/\\]/.test(id)) throw new ValidationError('session id must not contain path separators');
  if (id.includes('..')) throw new ValidationError("session id must not contain '..'");
  if (/\p{Cc}/u.test(id)) throw new ValidationError('session id must not contain control characters');
  if (id.trim() !== id || id.trim() === '') throw new ValidationError('session id must not start or end with whitespace');
}

/** `telegram:12345` → `telegram_12345` (one `_` per non-matching Unicode character). */
export function sanitizeSessionId(id: string): string {
  let out = '';
  for (const ch of id) out += /^[A-Za-z0-9_-]$/.test(ch) ? ch : '_';
  return out;
}
