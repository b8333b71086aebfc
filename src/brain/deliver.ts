// Where a queued task's result goes when it finally runs: the hook the composition root gave
// (serve: runtime.completeDeferred → session + chat), else the session file plus the outbox.
import { rfc3339Now } from '../kernel/index.js';
import { errorChain } from '../kernel/index.js';
import { emitEvent } from '../observe/index.js';
import { SessionStore } from '../store/index.js';
import type { Settings } from '../config/index.js';
import { Outbox } from './outbox.js';
import type { QueuedTask } from './state.js';

/** The task as the hook sees it. `sessionId` null ⇒ nobody is waiting in a chat. */
export interface DoneTask {
  id: number;
  purpose: string;
  requestId: string;
  sessionId: string | null;
  channel: string | null;
  chatId: string | null;
}

/** `text` is what the chat should get: the answer, or a friendly failure note. */
export type TaskResult =
  | { status: 'executed'; text: string; accountId: string; latencyMs: number }
  | { status: 'failed'; text: string; message: string; attempts: number };

export type TaskDoneHook = (task: DoneTask, result: TaskResult) => void | Promise<void>;

/** What a chat user reads when their queued request could not be done (no internals). */
export function friendlyFailure(): string {
  return 'Sorry, I could not complete your earlier request: Codex failed several times. Please try again later.';
}

export async function deliverResult(settings: Settings, task: QueuedTask, result: TaskResult, hook: TaskDoneHook | undefined): Promise<void> {
  const done: DoneTask = { id: task.id, purpose: task.purpose, requestId: task.request_id ?? `codex-task-${task.id}`, sessionId: task.session_id, channel: task.channel, chatId: task.chat_id };
  emitEvent('codex_task_done', { task_id: task.id, status: result.status, session_id: task.session_id, channel: task.channel });
  try {
    if (hook) await hook(done, result);
    else if (done.sessionId) await persistForLater(settings, done, result.text);
  } catch (err) {
    emitEvent('codex_deliver_error', { task_id: task.id, session_id: task.session_id, message: errorChain(err) });
  }
}

/** No channel here: keep the answer in the session now, and leave it for `serve` to send. */
async function persistForLater(settings: Settings, task: DoneTask, text: string): Promise<void> {
  const sessionId = task.sessionId!;
  await new SessionStore(settings.sessionsDir, { fsync: settings.sessionFsync }).append(sessionId, { role: 'assistant', content: text, timestamp: rfc3339Now(), request_id: task.requestId, deferred: true });
  if (task.channel && task.chatId && task.channel !== 'cli') {
    await new Outbox(settings.workspace).add({ session_id: sessionId, channel: task.channel, chat_id: task.chatId, request_id: task.requestId, text, task_id: task.id, created_at: rfc3339Now() });
  }
}
