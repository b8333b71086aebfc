// The pool's part in `serve`: the one component that drains the Codex queue (a kernel
// Component), and the hook that turns a finished queued task into a late answer at the door.
import { existsSync } from 'node:fs';
import type { Component, DeferredReply } from '../kernel/index.js';
import type { Settings } from '../config/index.js';
import type { Telemetry } from '../store/index.js';
import { CodexPool } from './pool.js';
import { CodexDrainer } from './drainer.js';
import { StateFile } from './state.js';
import type { TaskDoneHook } from './deliver.js';

/** Routes a queued chat task's answer (or friendly failure) to `complete` (the door's completeDeferred). */
export function deferredReplyHook(complete: (reply: DeferredReply) => void | Promise<void>): TaskDoneHook {
  return async (task, result) => {
    if (!task.sessionId) return;
    await complete({ sessionId: task.sessionId, channel: task.channel ?? undefined, chatId: task.chatId ?? undefined, text: result.text, requestId: task.requestId });
  };
}

/** The serve drainer component; `kick()` wakes it (Pulse's drain job asks it instead of draining itself). */
export interface CodexServeComponent extends Component {
  kick(): void;
}

/**
 * The drainer for `serve`, or undefined when there is nothing to serve: Codex disabled, or no
 * pool wired (provider is not codex) and no queue state in the workspace.
 */
export function codexServeComponent(settings: Settings, pool: CodexPool | undefined, deps: { onTaskDone: TaskDoneHook; telemetry?: Telemetry; pollMs?: number }): CodexServeComponent | undefined {
  if (!settings.codex.enabled) return undefined;
  if (!pool && !existsSync(new StateFile(settings.workspace).path)) return undefined;
  const p = pool ?? new CodexPool(settings, { onTaskDone: deps.onTaskDone, telemetry: deps.telemetry });
  let drainer: CodexDrainer | undefined;
  return {
    name: 'codex-drainer',
    async start() {
      drainer = new CodexDrainer(p, { pollMs: deps.pollMs });
      drainer.start();
    },
    ready: () => drainer !== undefined,
    kick: () => drainer?.kick(),
    async stop() {
      await drainer?.stop();
    },
  };
}
