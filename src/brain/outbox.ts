// Answers to chat tasks that were run by a process with no channel to deliver them (e.g.
// `codex drain-one`): persisted to the session there, and left here (`codex/outbox.jsonl`)
// for the `serve` process to send to the chat.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { appendJsonLine, withFileLock, writeFileAtomic } from '../store/index.js';
import { emitWarning } from '../observe/index.js';

/** One undelivered answer (the DeferredReply fields, already persisted to the session). */
export interface OutboxEntry {
  session_id: string;
  channel: string | null;
  chat_id: string | null;
  request_id: string;
  text: string;
  task_id: number;
  created_at: string;
}

export class Outbox {
  readonly path: string;
  constructor(workspace: string) {
    this.path = join(workspace, 'codex', 'outbox.jsonl');
  }

  async add(entry: OutboxEntry): Promise<void> {
    await withFileLock(this.path, () => appendJsonLine(this.path, entry));
  }

  /** Cheap check without the lock. */
  hasEntries(): boolean {
    try {
      return statSync(this.path).size > 0;
    } catch {
      return false;
    }
  }

  /** Removes and returns every entry (garbage lines are skipped with a warning). */
  async takeAll(): Promise<OutboxEntry[]> {
    if (!this.hasEntries()) return [];
    return withFileLock(this.path, () => {
      if (!existsSync(this.path)) return [];
      const lines = readFileSync(this.path, 'utf8').split('\n').filter((l) => l.trim());
      writeFileAtomic(this.path, '', { mode: 0o600 });
      const out: OutboxEntry[] = [];
      for (const line of lines) {
        try {
          const v = JSON.parse(line) as Partial<OutboxEntry>;
          if (typeof v.session_id === 'string' && typeof v.text === 'string') {
            out.push({ session_id: v.session_id, channel: v.channel ?? null, chat_id: v.chat_id ?? null, request_id: String(v.request_id ?? ''), text: v.text, task_id: Number(v.task_id ?? 0), created_at: String(v.created_at ?? '') });
            continue;
          }
        } catch {
          // fall through
        }
        emitWarning('codex outbox line is not an entry; skipped', { path: this.path });
      }
      return out;
    });
  }
}
