// The Codex pool for processes without a runtime (`codex …` commands, one-shot `pulse …`): a
// task that finishes there still reaches its chat, through the same late-answer function as
// the runtime door (session first, then the durable outbox that `serve` drains).
import type { Settings } from '../config/index.js';
import { Outbox, SessionStore, type Telemetry } from '../store/index.js';
import { recordLateReply } from '../core/index.js';
import type { CodexPool, CodexPoolDeps } from '../brain/index.js';

export async function openDeliveringCodexPool(settings: Settings, deps: Omit<CodexPoolDeps, 'onTaskDone'> & { telemetry?: Telemetry } = {}): Promise<CodexPool> {
  const { openCodexPool, deferredReplyHook } = await import('../brain/index.js');
  let sinks: { sessions: SessionStore; outbox: Outbox } | undefined;
  const onTaskDone = deferredReplyHook((reply) => {
    sinks ??= { sessions: new SessionStore(settings.sessionsDir, { fsync: settings.sessionFsync }), outbox: new Outbox(settings.workspace) };
    return recordLateReply(sinks.sessions, sinks.outbox, reply);
  });
  return openCodexPool(settings, { ...deps, onTaskDone });
}
