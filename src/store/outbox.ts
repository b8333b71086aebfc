// The one road out: every message delivered after its turn (late Codex answers, Pulse
// notifications, approval requests, later evolution reports) is first appended here, durably,
// under a lock; any process may enqueue, and the drainer of the long-running process
// (store/outbox-drainer.ts) delivers and settles it. A crash loses nothing: a message leaves the
// file only after it was delivered (at least once: a crash between the send and the settle
// sends it again).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { rfc3339Now, type OutboxKind, type OutboxMessage, type OutboxWriter } from '../kernel/index.js';
import { emitEvent, emitWarning } from '../observe/index.js';
import { appendLinesAsync } from './jsonl.js';
import { withFileLock } from './lock.js';
import { writeFileAtomicAsync } from './atomic-file.js';

/** One line of `${workspace}/outbox/outbox.jsonl`. */
export interface OutboxRecord {
  id: string;
  kind: OutboxKind;
  channel: string;
  chat_id: string;
  text: string;
  session_id: string | null;
  request_id: string | null;
  created_at: string;
  /** Failed delivery attempts so far. */
  attempts: number;
  /** Not before (epoch ms): set after a failed attempt. */
  next_at: number;
  last_error: string | null;
}

/** What a drainer pass decided for one record. */
export type Settlement = { status: 'delivered' } | { status: 'dropped'; error: string } | { status: 'retry'; error: string; nextAt: number };

const KINDS: readonly OutboxKind[] = ['reply', 'notification', 'approval', 'report'];

export function outboxPath(workspace: string): string {
  return join(workspace, 'outbox', 'outbox.jsonl');
}

export class Outbox implements OutboxWriter {
  readonly path: string;
  private readonly listeners = new Set<() => void>();

  constructor(workspace: string) {
    this.path = outboxPath(workspace);
  }

  /** Appends durably (fsync) under the lock; resolves once the message is on disk. */
  async enqueue(message: OutboxMessage): Promise<void> {
    const record: OutboxRecord = {
      id: `ob-${Date.now().toString(16)}-${randomBytes(4).toString('hex')}`,
      kind: message.kind,
      channel: message.channel,
      chat_id: message.chatId,
      text: message.text,
      session_id: message.sessionId ?? null,
      request_id: message.requestId ?? null,
      created_at: rfc3339Now(),
      attempts: 0,
      next_at: 0,
      last_error: null,
    };
    // The fdatasync runs on libuv's pool: serve's event loop never waits for the disk here.
    await withFileLock(this.path, () => appendLinesAsync(this.path, [record]));
    emitEvent('outbox_enqueued', { id: record.id, kind: record.kind, channel: record.channel, chat_id: record.chat_id, request_id: record.request_id });
    for (const fn of this.listeners) fn();
  }

  /** Called after each enqueue in this process (the drainer wakes at once). */
  onEnqueue(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Cheap check without the lock (the drainer's idle poll). */
  hasEntries(): boolean {
    try {
      return statSync(this.path).size > 0;
    } catch {
      return false;
    }
  }

  /** Every waiting record, oldest first (garbage lines are skipped with a warning). */
  async list(): Promise<OutboxRecord[]> {
    if (!this.hasEntries()) return [];
    return withFileLock(this.path, () => this.readUnlocked());
  }

  /** Applies a pass's decisions: delivered and dropped records leave; retried ones are updated. */
  async settle(decisions: Map<string, Settlement>): Promise<void> {
    if (decisions.size === 0) return;
    await withFileLock(this.path, async () => {
      const keep: OutboxRecord[] = [];
      for (const r of this.readUnlocked()) {
        const d = decisions.get(r.id);
        if (!d) keep.push(r);
        else if (d.status === 'retry') keep.push({ ...r, attempts: r.attempts + 1, next_at: d.nextAt, last_error: d.error });
      }
      await writeFileAtomicAsync(this.path, keep.map((r) => JSON.stringify(r) + '\n').join(''), { mode: 0o600 });
    });
  }

  private readUnlocked(): OutboxRecord[] {
    if (!existsSync(this.path)) return [];
    const out: OutboxRecord[] = [];
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const r = decodeRecord(line);
      if (r) out.push(r);
      else emitWarning('outbox line is not a record; skipped', { path: this.path });
    }
    return out;
  }
}

function decodeRecord(line: string): OutboxRecord | undefined {
  let v: Partial<OutboxRecord>;
  try {
    v = JSON.parse(line) as Partial<OutboxRecord>;
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object' || typeof v.id !== 'string' || typeof v.channel !== 'string' || typeof v.chat_id !== 'string' || typeof v.text !== 'string') return undefined;
  return {
    id: v.id,
    kind: KINDS.includes(v.kind as OutboxKind) ? (v.kind as OutboxKind) : 'reply',
    channel: v.channel,
    chat_id: v.chat_id,
    text: v.text,
    session_id: typeof v.session_id === 'string' ? v.session_id : null,
    request_id: typeof v.request_id === 'string' ? v.request_id : null,
    created_at: String(v.created_at ?? ''),
    attempts: Number.isInteger(v.attempts) && (v.attempts as number) >= 0 ? (v.attempts as number) : 0,
    next_at: Number.isFinite(v.next_at) ? (v.next_at as number) : 0,
    last_error: typeof v.last_error === 'string' ? v.last_error : null,
  };
}
