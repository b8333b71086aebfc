// Where a queued task's result goes when it finally runs: the hook the composition root gave
// (the runtime door's completeDeferred: session first, then the outbox for the chat). The Brain
// never writes sessions or delivers itself.
import { FRIENDLY_LATE_FAILURE, errorChain } from '../kernel/index.js';
import { emitEvent } from '../observe/index.js';
import type { Settings } from '../config/index.js';
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
  return FRIENDLY_LATE_FAILURE;
}

export async function deliverResult(_settings: Settings, task: QueuedTask, result: TaskResult, hook: TaskDoneHook | undefined): Promise<void> {
  const done: DoneTask = { id: task.id, purpose: task.purpose, requestId: task.request_id ?? `codex-task-${task.id}`, sessionId: task.session_id, channel: task.channel, chatId: task.chat_id };
  emitEvent('codex_task_done', { task_id: task.id, status: result.status, session_id: task.session_id, channel: task.channel });
  try {
    if (hook) await hook(done, result);
    else if (done.sessionId) emitEvent('codex_deliver_error', { task_id: task.id, session_id: task.session_id, message: 'no delivery wired in this process (open the pool through the app)' });
  } catch (err) {
    emitEvent('codex_deliver_error', { task_id: task.id, session_id: task.session_id, message: errorChain(err) });
  }
}
