// Session ids → file names: the original's names for the ids it produced (so its data files are
// found), an injective escape for every other id; ids that could escape the folder or are
// absurd are refused.
import { createHash } from 'node:crypto';
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

/** The original's rule: every Unicode char outside `[A-Za-z0-9_-]` becomes one `_` (not injective). */
export function legacySessionFileName(id: string): string {
  let out = '';
  for (const ch of id) out += /^[A-Za-z0-9_-]$/.test(ch) ? ch : '_';
  return out;
}

// Ids the original's channels produced, and the shape of the file names they got.
const TELEGRAM_ID = /^telegram:-?[0-9]+$/;
const TELEGRAM_FILE = /^telegram_-?[0-9]+$/;
const WA_SERVERS = ['s.whatsapp.net', 'g.us', 'c.us', 'lid', 'broadcast', 'newsletter'];
const WHATSAPP_ID = new RegExp(`^whatsapp:[A-Za-z0-9-]+@(?:${WA_SERVERS.map((x) => x.replace(/\./g, '\\.')).join('|')})$`);
const WHATSAPP_FILE = new RegExp(`^whatsapp_[A-Za-z0-9-]+_(?:${WA_SERVERS.map((x) => x.replace(/\./g, '_')).join('|')})$`);
const PLAIN = /^[A-Za-z0-9_-]+$/;
const MAX_ENCODED = 200; // file names stay well under the usual 255-byte limit

/** `%XX` per UTF-8 byte for every char outside `[A-Za-z0-9-]` (so `_`, `%` and `~` are escaped too). */
function escapeId(id: string): string {
  let out = '';
  for (const ch of id) {
    if (/^[A-Za-z0-9-]$/.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Session id → file name (without `.jsonl`), injective:
 * - ids the original produced keep its file names, so its data files are found: plain ids
 *   (`[A-Za-z0-9_-]+`) are their own name, `telegram:<chat id>` → `telegram_<chat id>`,
 *   `whatsapp:<user>@<server>` → `whatsapp_<user>_<server with . → _>`;
 * - every other id is escaped (`%XX` per UTF-8 byte outside `[A-Za-z0-9-]`, so the name always
 *   holds a `%` and can never equal a name above), e.g. `a:b` → `a%3Ab`, `会话` → `%E4%BC%9A%E8%AF%9D`;
 *   a plain id shaped like a channel file name (`telegram_123`) is escaped too, since the name
 *   `telegram_123` belongs to `telegram:123`;
 * - an escaped name longer than 200 chars is cut and suffixed `~<sha256 of the id, 128 bits>`.
 */
export function sanitizeSessionId(id: string): string {
  if (PLAIN.test(id) && !TELEGRAM_FILE.test(id) && !WHATSAPP_FILE.test(id)) return id;
  if (TELEGRAM_ID.test(id) || WHATSAPP_ID.test(id)) return legacySessionFileName(id);
  const escaped = escapeId(id);
  if (escaped.length <= MAX_ENCODED) return escaped;
  const head = escaped.slice(0, 120).replace(/%[0-9A-F]?$/, '');
  return `${head}~${createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 32)}`;
}
