// WhatsApp bridge frames: a tolerant parser for both bridge dialects (the original's
// `{type:"message", from, chat, content}` and the Baileys bridge's `{type:"message", id, sender,
// pn, …}`), outbound encoding per dialect, and JID aliases for allowlists.
import type { ChannelMessage } from './types.js';
import { AppError } from '../kernel/index.js';

export type BridgeDialect = 'original' | 'baileys';

export type BridgeFrame =
  | { kind: 'message'; dialect: BridgeDialect; message: ChannelMessage }
  /** A message frame that carries nothing to answer (empty text, own echo, status broadcast). */
  | { kind: 'ignored'; dialect: BridgeDialect | undefined; reason: string }
  /** Bridge control frames (Baileys dialect): status, qr, sent, error. */
  | { kind: 'status'; status: string }
  | { kind: 'qr' }
  | { kind: 'sent'; to: string }
  | { kind: 'error'; error: string }
  | { kind: 'unknown'; type: string };

/** Thrown for frames that are not JSON objects with a string `type`. */
export class BridgeParseError extends AppError {
  constructor(message: string) {
    super('bridge_parse', message);
  }
}

const MAX_ID = 512;

function str(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t && t.length <= MAX_ID ? t : undefined;
}

/** Drops the `:device` suffix of a JID user part (`123:4@s.whatsapp.net` → `123@s.whatsapp.net`). */
export function normaliseJid(jid: string): string {
  const at = jid.indexOf('@');
  if (at < 0) return jid.replace(/:\d+$/, '');
  return jid.slice(0, at).replace(/:\d+$/, '') + jid.slice(at);
}

/**
 * Every spelling of an id an operator may put in an allowlist: the full JID, the bare user
 * part (phone digits or LID), and `+digits` for phone numbers.
 */
export function jidAliases(id: string): string[] {
  const full = normaliseJid(id.trim());
  const at = full.indexOf('@');
  const user = at < 0 ? full : full.slice(0, at);
  const server = at < 0 ? '' : full.slice(at + 1);
  const out = new Set<string>([full, user]);
  const digits = user.replace(/^\+/, '');
  if (/^\d{5,20}$/.test(digits) && (server === '' || server === 's.whatsapp.net' || server === 'c.us')) {
    out.add(digits);
    out.add(`+${digits}`);
  }
  out.delete('');
  return [...out];
}

function aliasesOf(ids: Array<string | undefined>, exclude: string): string[] | undefined {
  const out = new Set<string>();
  for (const id of ids) if (id) for (const a of jidAliases(id)) out.add(a);
  out.delete(exclude);
  return out.size ? [...out] : undefined;
}

/** Parses one text frame from the bridge. Throws BridgeParseError on garbage. */
export function parseBridgeFrame(text: string): BridgeFrame {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BridgeParseError(`failed to decode whatsapp bridge payload: not JSON (${text.length} bytes)`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BridgeParseError('failed to decode whatsapp bridge payload: not a JSON object');
  const f = v as Record<string, unknown>;
  if (typeof f.type !== 'string') throw new BridgeParseError("failed to decode whatsapp bridge payload: missing 'type'");
  switch (f.type) {
    case 'message':
      return parseMessage(f);
    case 'status':
      return { kind: 'status', status: str(f.status) ?? str(f.content) ?? 'unknown' };
    case 'qr':
      return { kind: 'qr' };
    case 'sent':
      return { kind: 'sent', to: str(f.to) ?? '' };
    case 'error':
      return { kind: 'error', error: typeof f.error === 'string' ? f.error.slice(0, 300) : 'unknown bridge error' };
    default:
      return { kind: 'unknown', type: f.type.slice(0, 40) };
  }
}

function parseMessage(f: Record<string, unknown>): BridgeFrame {
  const text = typeof f.content === 'string' ? f.content.trim() : '';
  const id = str(f.id);
  if (f.from !== undefined) {
    // The original (picoclaw / rusty-pinch) dialect: `from` is required, `chat` defaults to it.
    const from = str(f.from);
    if (!from) throw new BridgeParseError("whatsapp bridge message is missing 'from'");
    const chat = str(f.chat) ?? from;
    if (f.fromMe === true) return { kind: 'ignored', dialect: 'original', reason: 'own message' };
    if (!text) return { kind: 'ignored', dialect: 'original', reason: 'no text' };
    const isGroup = chat !== from || chat.endsWith('@g.us');
    const senderId = normaliseJid(from);
    return {
      kind: 'message',
      dialect: 'original',
      message: { channel: 'whatsapp', chatId: chat, senderId, senderAliases: aliasesOf([from], senderId), messageId: id, text, isGroup },
    };
  }
  if (f.sender !== undefined) {
    // The Baileys bridge: `sender` is the chat JID (reply there); `pn` its phone/LID twin;
    // `participant` the author in groups.
    const sender = str(f.sender);
    if (!sender) throw new BridgeParseError("whatsapp bridge message is missing 'sender'");
    if (sender === 'status@broadcast') return { kind: 'ignored', dialect: 'baileys', reason: 'status broadcast' };
    if (f.fromMe === true) return { kind: 'ignored', dialect: 'baileys', reason: 'own message' };
    if (!text) return { kind: 'ignored', dialect: 'baileys', reason: 'no text' };
    const isGroup = f.isGroup === true || sender.endsWith('@g.us');
    const participant = str(f.participant);
    const pn = str(f.pn);
    const author = isGroup ? (participant ?? sender) : sender;
    const senderId = normaliseJid(author);
    const ids = isGroup ? [author] : [sender, pn];
    return {
      kind: 'message',
      dialect: 'baileys',
      message: { channel: 'whatsapp', chatId: sender, senderId, senderAliases: aliasesOf(ids, senderId), messageId: id, text, isGroup },
    };
  }
  throw new BridgeParseError("whatsapp bridge message has neither 'from' nor 'sender'");
}

/** The outbound frame for a reply in the given dialect. */
export function encodeOutbound(dialect: BridgeDialect, to: string, text: string): string {
  return dialect === 'baileys' ? JSON.stringify({ type: 'send', to, text }) : JSON.stringify({ content: text, to, type: 'message' });
}

/** The Baileys bridge's first frame. */
export function encodeAuth(token: string): string {
  return JSON.stringify({ type: 'auth', token });
}
