// The Telegram update journal under the data dir: the next getUpdates offset and the updates
// received but not yet handled. Written (atomically) before updates are dispatched and after
// each is handled, so a restart or crash neither answers a message twice nor skips one.
import { join } from 'node:path';
import { emitWarning } from '../observe/index.js';
import { readJsonFile, writeJsonAtomic } from '../store/index.js';
import type { ChannelMessage } from './types.js';

export interface JournalState {
  /** Next offset for getUpdates: every update below it was received (and is handled or pending). */
  offset: number;
  /** Received, not yet handled, by update_id (re-dispatched on start). */
  pending: Map<number, ChannelMessage>;
}

interface JournalFile {
  version: 1;
  bot_id: string;
  offset: number;
  pending: Array<{ update_id: number; message: ChannelMessage }>;
  updated_at: string;
}

function validMessage(m: unknown): m is ChannelMessage {
  const v = m as Partial<ChannelMessage> | null;
  return !!v && typeof v === 'object' && typeof v.chatId === 'string' && typeof v.senderId === 'string' && typeof v.text === 'string' && typeof v.channel === 'string';
}

function validate(value: unknown): JournalFile {
  const v = value as Partial<JournalFile> | null;
  if (!v || typeof v !== 'object' || v.version !== 1) throw new Error('not a telegram offset file (version 1)');
  if (typeof v.bot_id !== 'string' || typeof v.offset !== 'number' || !Number.isSafeInteger(v.offset) || v.offset < 0) throw new Error('bad bot_id or offset');
  if (!Array.isArray(v.pending)) throw new Error('bad pending list');
  for (const p of v.pending) {
    if (!p || typeof p.update_id !== 'number' || !Number.isSafeInteger(p.update_id) || !validMessage(p.message)) throw new Error('bad pending entry');
  }
  return v as JournalFile;
}

export class TelegramJournal {
  readonly path: string;
  constructor(dataDir: string) {
    this.path = join(dataDir, 'channels', 'telegram-offset.json');
  }

  /** State for `botId`; a missing, corrupt (moved aside) or other bot's file starts fresh. */
  load(botId: string): JournalState {
    const r = readJsonFile<JournalFile>(this.path, 'telegram offset', validate);
    if (r.state !== 'ok') return { offset: 0, pending: new Map() };
    if (r.value.bot_id !== botId) {
      emitWarning('telegram offset file belongs to another bot; starting from the server offset', { path: this.path });
      return { offset: 0, pending: new Map() };
    }
    return { offset: r.value.offset, pending: new Map(r.value.pending.map((p) => [p.update_id, p.message])) };
  }

  save(botId: string, state: JournalState): void {
    const file: JournalFile = {
      version: 1,
      bot_id: botId,
      offset: state.offset,
      pending: [...state.pending].sort(([a], [b]) => a - b).map(([update_id, message]) => ({ update_id, message })),
      updated_at: new Date().toISOString(),
    };
    writeJsonAtomic(this.path, file, { mode: 0o600 });
  }
}
