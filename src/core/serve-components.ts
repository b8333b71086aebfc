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

export async function buildServeComponents(_app: App): Promise<ServeComponent[]> {
  const components: ServeComponent[] = [];
  const { pulseServeComponent } = await import('./pulse-wiring.js');
  components.push(pulseServeComponent());
  return components;
}
