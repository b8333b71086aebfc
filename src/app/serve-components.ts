// The long-running parts `serve` starts beside the channels, each a kernel Component: the one
// Codex drainer, the one Pulse scheduler (on the app's one PulseService) and the one outbox
// drainer (the road out: the one delivery function is serve's).
import { OutboxDrainer, type OutboxRecord } from '../store/index.js';
import { parseTarget, type Component } from '../kernel/index.js';
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
  // A Codex account's device-login URL and code reach the operator on the road out (every Pulse notify target).
  const onDeviceCode = async (id: string, url: string, code: string): Promise<void> => {
    const text = `Codex account '${id}' needs a login: open ${url} and enter the code ${code} (valid 15 minutes).`;
    for (const target of app.settings.pulse.notify) {
      const t = parseTarget(target);
      if (t) await app.outbox.enqueue({ kind: 'notification', channel: t.channel, chatId: t.chatId, text });
    }
  };
  const codex = codexServeComponent(app.settings, app.codex, { onTaskDone: deferredReplyHook((r) => app.completeLate(r)), telemetry: app.telemetry, pollMs: deps.codexPollMs, onDeviceCode });
  // Queued skill generations answered while nobody resumed them (another process drained the pool).
  app.resumeAnsweredGenerations();
  if (codex) {
    components.push(codex);
    app.codexDrainer = codex;
  }
  components.push(pulseComponent(app));
  components.push(outboxComponent(app, deps));
  return components;
}

/** The road out's drainer (its depth feeds the `outbox` queue metric); also migrates what older versions left (once). */
export function outboxComponent(app: App, deps: ServeComponentDeps): Component & { depth(): number } {
  const drainer = new OutboxDrainer(app.outbox, { deliver: deps.deliver, accepts: deps.accepts, pollMs: deps.outboxPollMs });
  return {
    name: drainer.name,
    async start() {
      const { migrateLegacyOutbox } = await import('./legacy-outbox.js');
      await migrateLegacyOutbox(app.settings.workspace, app.outbox);
      await drainer.start();
    },
    ready: () => drainer.ready(),
    depth: () => drainer.depth,
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
