// Wires serve to the self-update hand-over: readiness is the `serve_start` event (every
// component started, the ops endpoint listening), seen through the event sink.
import { VERSION } from './version.js';

export interface ServeHandoverHooks {
  signal: AbortSignal;
  readonly restart: boolean;
  restartCode: number;
  failed(err: unknown): void;
  close(): void;
}

export async function startServeHandover(): Promise<ServeHandoverHooks | undefined> {
  const { loadSettings } = await import('../config/index.js');
  const { openUpdateContext, serveHandover } = await import('../evolution/index.js');
  const { setEventSink } = await import('../observe/index.js');
  const { errorChain } = await import('../kernel/index.js');
  const s = loadSettings();
  const ctx = openUpdateContext({ env: s.env, workspace: s.workspace, runningVersion: VERSION, currentBinary: process.argv[1] ?? '' });
  if (!ctx.settings.restartServeOnActivation) return undefined;
  const h = serveHandover(ctx, { runningSlot: process.env.RUSTY_PINCH_ACTIVE_SLOT ?? 'installed', readyTimeoutMs: ctx.settings.serveReadyTimeoutSecs * 1000 });
  let prev: ((line: string) => void) | undefined;
  prev = setEventSink((line) => {
    prev!(line);
    if (line.startsWith('{"event":"serve_start"')) h.ready();
  });
  return {
    signal: h.signal,
    get restart() {
      return h.reason !== undefined;
    },
    restartCode: 75,
    failed: (err) => void h.failed(errorChain(err)),
    close() {
      h.close();
      if (prev) setEventSink(prev);
    },
  };
}
