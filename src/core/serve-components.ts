// Long-running parts that `serve` starts beside the channels (Pulse scheduler, Codex queue
// drainer). Each part adds itself to buildServeComponents(); serve starts and stops them.
import type { App } from './app.js';

export interface ServeContext {
  app: App;
  signal: AbortSignal;
  /** Sends a notification through an enabled channel; target like `telegram:<chat id>`. */
  notify(target: string, text: string): Promise<void>;
}

export interface ServeComponent {
  name: string;
  start(ctx: ServeContext): Promise<void>;
  stop(): Promise<void>;
  /** Ready for /readyz (default: true once started). */
  isReady?(): boolean;
}

export async function buildServeComponents(app: App): Promise<ServeComponent[]> {
  const components: ServeComponent[] = [];
  // Codex queue drainer + periodic health checks (only when there is a pool or a queue to serve).
  const { codexServeComponent, deferredReplyHook } = await import('../brain/index.js');
  const codex = codexServeComponent(app.settings, app.codex, { onTaskDone: deferredReplyHook((r) => app.runtime.completeDeferred(r)), telemetry: app.runtime.telemetry });
  if (codex) components.push(codex);
  const { pulseServeComponent } = await import('./pulse-wiring.js');
  components.push(pulseServeComponent());
  return components;
}
