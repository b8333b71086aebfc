// Session records are built here and only here: the user's message, the answer, tool exchanges
// and late answers, in the original's `{role, content, timestamp}` shape plus our extra fields.
import { rfc3339 } from '../kernel/index.js';
import type { ChatMessage } from '../providers/index.js';
import type { SessionRecord } from '../store/index.js';

let stampMs = -1;
let stampText = '';

/** rfc3339Now(), formatted once per millisecond (three records and a turn line share it). */
export function rfc3339Now(): string {
  const ms = Date.now();
  if (ms !== stampMs) {
    stampMs = ms;
    stampText = rfc3339(new Date(ms));
  }
  return stampText;
}

export function userRecord(content: string, requestId?: string): SessionRecord {
  return requestId ? { role: 'user', content, timestamp: rfc3339Now(), request_id: requestId } : { role: 'user', content, timestamp: rfc3339Now() };
}

export function assistantRecord(content: string, extra: Partial<SessionRecord> = {}): SessionRecord {
  return { role: 'assistant', content, timestamp: rfc3339Now(), ...extra };
}

/** A tool exchange record (kept in the log, not replayed in the history window). */
export function toolRecord(role: 'assistant' | 'system' | 'tool', content: string, kind: 'tool_call' | 'tool_result', extra: Partial<SessionRecord> = {}): SessionRecord {
  return { role, content, timestamp: rfc3339Now(), kind, ...extra };
}

/** An answer that arrived after its turn. */
export function lateRecord(content: string, requestId: string): SessionRecord {
  return { role: 'assistant', content, timestamp: rfc3339Now(), request_id: requestId, deferred: true };
}

/**
 * Plain user/assistant records: the only plain roles we write. Tool exchange records stay in the
 * log, not the window; any other line (a `system` line in a tampered or foreign file) is never
 * forwarded, so a session file cannot inject a system message.
 */
export function replayableRecords(records: readonly SessionRecord[]): SessionRecord[] {
  return records.filter(isReplayable);
}

export function isReplayable(r: SessionRecord): boolean {
  return r.kind === undefined && (r.role === 'user' || r.role === 'assistant');
}

export function replayable(records: SessionRecord[]): ChatMessage[] {
  return records.map((r) => ({ role: r.role as ChatMessage['role'], content: r.content }));
}
