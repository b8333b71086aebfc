// Brain face: the Codex account pool (rate windows, persistent queue, health checks), its
// one `serve` drainer and the per-account login. Late answers leave through the door the
// composition root hands in (onTaskDone), never by the Brain writing sessions itself.
import type { Settings } from '../config/index.js';
import { CodexPool, type CodexPoolDeps } from './pool.js';

export { CodexPool, MAX_TASK_ATTEMPTS, DRAIN_NOOP, type CodexPoolDeps, type TaskInput, type GenerateResult, type DrainResult } from './pool.js';
export { friendlyFailure, type DoneTask, type TaskResult, type TaskDoneHook } from './deliver.js';
export type { CodexRunner } from './health.js';
export { accountHome } from './accounts.js';
export { CodexDrainer, type DrainerOptions } from './drainer.js';
export { loginAccount, type LoginResult } from './login.js';

/** Opens the pool over `${WORKSPACE}/codex/state.json`. Cheap: nothing is read or run until used. */
export function openCodexPool(settings: Settings, deps: CodexPoolDeps = {}): CodexPool {
  return new CodexPool(settings, deps);
}
export { codexServeComponent, deferredReplyHook, type CodexServeComponent } from './serve.js';
