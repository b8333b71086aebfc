// The one contract for long-running parts: `serve` (and a foreground channel) starts, watches
// and stops channels, Pulse, the Codex drainer and the outbox drainer through it alone.

export interface Component {
  /** Short stable name (`/readyz` check `component:<name>`, log fields). */
  readonly name: string;
  /** Starts the part; resolves once it runs (not when it ends). A rejection means it could not start. */
  start(): Promise<void>;
  /** Ready for work (`/readyz`). Must not throw. */
  ready(): boolean;
  /** Stops: no new work, in-flight work finished or abandoned safely; resolves once stopped. */
  stop(): Promise<void>;
}
