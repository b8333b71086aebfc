// A late answer (a queued Codex task that ran after its turn): kept in its session first, then
// handed to the outbox for its chat. The runtime's completeDeferred and processes without a
// runtime (`codex drain-one`) both use this one function.
import { emitEvent } from '../observe/index.js';
import { codePoints } from '../tools/index.js';
import { lateRecord } from './records.js';
import type { DeferredReply, OutboxWriter } from '../kernel/index.js';
import type { SessionStore } from '../store/index.js';

export async function recordLateReply(sessions: SessionStore, outbox: OutboxWriter | undefined, reply: DeferredReply): Promise<void> {
  await sessions.append(reply.sessionId, lateRecord(reply.text, reply.requestId));
  emitEvent('deferred_reply', { request_id: reply.requestId, session_id: reply.sessionId, channel: reply.channel ?? null, response_chars: codePoints(reply.text) });
  if (outbox && reply.channel && reply.chatId && reply.channel !== 'cli') {
    await outbox.enqueue({ kind: 'reply', channel: reply.channel, chatId: reply.chatId, text: reply.text, sessionId: reply.sessionId, requestId: reply.requestId });
  }
}
