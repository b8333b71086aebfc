// The long-running parts `serve` starts beside the channels, each a kernel Component: the one
// Codex drainer, the one Pulse scheduler (on the app's one PulseService) and the one outbox
// drainer (the road out: the one delivery function is serve's).
import { OutboxDrainer, type OutboxRecord } from '../store/index.js';
import type { Component } from '../kernel/index.js';
import type { PulseScheduler } from '../pulse/index.js';
import type { App } from './create-app.js';

export interface ServeComponentDeps {
  /** The one delivery function: sends a record to its chat; rejects when it was not sent. */
  deliver(record: OutboxRecord): Promise<void>;
  /** Channels this process delivers to. */
  accepts?(channel: string): boolean;
  /** Poll intervals (tests). */
  outboxPollMs?: number;
  codexPollMs?: number;
}

export async function buildServeComponents(app: App, deps: ServeComponentDeps): Promise<Component[]> {
  const components: Component[] = [];
  const { codexServeComponent, deferredReplyHook } = await import('../brain/index.js');
  const codex = codexServeComponent(app.settings, app.codex, { onTaskDone: deferredReplyHook((r) => app.runtime.completeDeferred(r)), telemetry: app.telemetry, pollMs: deps.codexPollMs });
  if (codex) {
    components.push(codex);
    app.codexDrainer = codex;
  }
  components.push(pulseComponent(app));
  components.push(outboxComponent(app, deps));
  return components;
}

/** The road out's drainer; also migrates what older versions left (once). */
export function outboxComponent(app: App, deps: ServeComponentDeps): Component {
  const drainer = new OutboxDrainer(app.outbox, { deliver: deps.deliver, accepts: deps.accepts, pollMs: deps.outboxPollMs });
  return {
    name: drainer.name,
    async start() {
      const { migrateLegacyOutbox } = await import('./legacy-outbox.js');
      await migrateLegacyOutbox(app.settings.workspace, app.outbox);
      await drainer.start();
    },
    ready: () => drainer.ready(),
    stop: () => drainer.stop(),
  };
}

/** The Pulse scheduler on the app's one PulseService (jobs fire on their intervals). */
export function pulseComponent(app: App): Component {
  let scheduler: PulseScheduler | undefined;
  return {
    name: 'pulse',
    async start() {
      const pulse = await app.pulse();
      const { PulseScheduler } = await import('../pulse/index.js');
      scheduler = new PulseScheduler(pulse);
      scheduler.start();
      pulse.reportTelemetry();
    },
    ready: () => scheduler?.isRunning() ?? false,
    async stop() {
      await scheduler?.stop();
    },
  };
}
