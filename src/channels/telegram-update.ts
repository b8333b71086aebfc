// Telegram Update → ChannelMessage. Tolerant of anything the server (or a proxy) sends: an
// update without a usable update_id is `invalid`; one that is not a new text message from a
// person is `skip` with a reason (edits never trigger a new answer).
import type { ChannelMessage } from './types.js';

export type ParsedUpdate =
  | { kind: 'message'; updateId: number; message: ChannelMessage }
  | { kind: 'skip'; updateId: number; reason: 'edited' | 'unsupported' | 'malformed' | 'bot' | 'no_text' }
  | { kind: 'invalid'; reason: string };

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A Telegram id (number or numeric string) as a decimal string, else undefined. */
function idString(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v === 'string' && /^-?\d{1,20}$/.test(v.trim())) return v.trim();
  return undefined;
}

export function parseUpdate(raw: unknown): ParsedUpdate {
  if (!isObj(raw)) return { kind: 'invalid', reason: 'update is not an object' };
  const updateId = raw.update_id;
  if (typeof updateId !== 'number' || !Number.isSafeInteger(updateId) || updateId < 0) return { kind: 'invalid', reason: 'update_id missing or not a non-negative integer' };
  const msg = raw.message;
  if (msg === undefined) {
    if (raw.edited_message !== undefined) return { kind: 'skip', updateId, reason: 'edited' };
    return { kind: 'skip', updateId, reason: 'unsupported' };
  }
  if (!isObj(msg) || !isObj(msg.chat)) return { kind: 'skip', updateId, reason: 'malformed' };
  const chatId = idString(msg.chat.id);
  if (chatId === undefined) return { kind: 'skip', updateId, reason: 'malformed' };
  const from = isObj(msg.from) ? msg.from : undefined;
  if (from?.is_bot === true) return { kind: 'skip', updateId, reason: 'bot' };
  const rawText = typeof msg.text === 'string' ? msg.text : typeof msg.caption === 'string' ? msg.caption : '';
  const text = rawText.replace(/\u0000/g, '').trim();
  if (!text) return { kind: 'skip', updateId, reason: 'no_text' };
  const senderId = idString(from?.id) ?? chatId;
  const aliases = typeof from?.username === 'string' && /^\w{1,64}$/.test(from.username) ? [`@${from.username}`] : [];
  const messageId = idString(msg.message_id);
  const message: ChannelMessage = {
    channel: 'telegram',
    chatId,
    senderId,
    text,
    isGroup: msg.chat.type !== 'private',
    ...(aliases.length ? { senderAliases: aliases } : {}),
    ...(messageId !== undefined ? { messageId } : {}),
  };
  return { kind: 'message', updateId, message };
}
