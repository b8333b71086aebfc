// The pool's part in `serve`: a component (structurally a core ServeComponent) running the
// drainer, and the hook that turns a finished queued task into a deferred chat reply.
import { existsSync } from 'node:fs';
import type { DeferredReply } from '../kernel/index.js';
import { codexInUse, type Settings } from '../config/index.js';
import type { Telemetry } from '../store/index.js';
import { CodexPool } from './pool.js';
import { CodexDrainer } from './drainer.js';
import { StateFile } from './state.js';
import type { TaskDoneHook } from './deliver.js';
import { stopDeviceLogins } from './login.js';

/** Routes a queued chat task's answer (or friendly failure) to `complete` (runtime.completeDeferred). */
export function deferredReplyHook(complete: (reply: DeferredReply) => void | Promise<void>): TaskDoneHook {
  return async (task, result) => {
    if (!task.sessionId) return;
    await complete({ sessionId: task.sessionId, channel: task.channel ?? undefined, chatId: task.chatId ?? undefined, text: result.text, requestId: task.requestId });
  };
}

export interface CodexServeComponent {
  name: string;
  start(ctx: { notify(target: string, text: string): Promise<void> }): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The drainer for `serve`, or undefined when there is nothing to serve: Codex disabled, or no
 * pool wired (provider is not codex) and no queue state in the workspace.
 */
export function codexServeComponent(settings: Settings, pool: CodexPool | undefined, deps: { onTaskDone: TaskDoneHook; telemetry?: Telemetry; pollMs?: number }): CodexServeComponent | undefined {
  if (!settings.codex.enabled) return undefined;
  // No codex work here (provider not codex, no accounts) and nothing queued: spawn nothing.
  if (!pool && !codexInUse(settings.provider, settings.codex) && !existsSync(new StateFile(settings.workspace).path)) return undefined;
  const p = pool ?? new CodexPool(settings, { onTaskDone: deps.onTaskDone, telemetry: deps.telemetry });
  let drainer: CodexDrainer | undefined;
  return {
    name: 'codex-drainer',
    async start(ctx) {
      // A configured account that needs a ChatGPT device login: its URL and code go to the
      // operator (the `codex_device_auth` event on the terminal, and every Pulse notify target).
      const targets = settings.pulse.notify;
      p.setDeviceCodeHandler(async (id, url, code) => {
        const text = `Codex account '${id}' needs a login: open ${url} and enter the code ${code} (valid 15 minutes).`;
        await Promise.all(targets.map((t) => ctx.notify(t, text).catch(() => undefined)));
      });
      drainer = new CodexDrainer(p, { deliver: (e) => ctx.notify(`${e.channel}:${e.chat_id}`, e.text), pollMs: deps.pollMs });
      drainer.start();
    },
    async stop() {
      stopDeviceLogins();
      await drainer?.stop();
    },
  };
}
