// Inbound message size: one limit for every door (chat channels, `run --message`, the REPL), so a
// 10 MB paste is refused with a clear answer instead of being stored and re-sent every turn.
import { AppError } from './errors.js';

/** Default of RUSTY_PINCH_MAX_MESSAGE_BYTES: 32 KiB (eight full Telegram messages). */
export const DEFAULT_MAX_MESSAGE_BYTES = 32 * 1024;

/** A message over the size limit; nothing of it was stored. */
export class MessageTooLargeError extends AppError {
  readonly bytes: number;
  readonly limit: number;
  constructor(bytes: number, limit: number) {
    super('too_large', `message is too long: ${bytes} bytes (the limit is ${limit} bytes, RUSTY_PINCH_MAX_MESSAGE_BYTES)`, { hint: 'send a shorter message, or raise RUSTY_PINCH_MAX_MESSAGE_BYTES' });
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** UTF-8 size of `text` when it is over `limit` (0 = no limit), else undefined. */
export function oversize(text: string, limit: number): number | undefined {
  if (limit <= 0 || text.length <= limit / 4) return undefined; // cheap: ≤ 4 bytes per UTF-16 unit
  const bytes = Buffer.byteLength(text, 'utf8');
  return bytes > limit ? bytes : undefined;
}

/** What a chat user is told when their message is too long. */
export function tooLongReply(bytes: number, limit: number): string {
  const kb = (n: number): string => (n >= 10 * 1024 ? `${Math.round(n / 1024)} KB` : `${(n / 1024).toFixed(1)} KB`);
  return `Sorry, your message is too long for me (${kb(bytes)}; the limit is ${kb(limit)}). Please send a shorter message, or split it into parts.`;
}
