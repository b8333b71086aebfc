// `serve`: one long-running process. Builds the App once, runs every enabled channel through the
// shared runner (a failed channel is restarted with backoff, others keep running), starts the
// components (the Codex drainer, Pulse, the outbox drainer; all kernel Components) and the ops
// endpoint, and on SIGINT/SIGTERM drains in-flight turns (bounded) and stops everything in order.
import { emitEvent, createMetrics, startOpsServer, type ChannelSample, type OpsServer, type Readiness, type ServeMetrics, type TurnSample } from '../observe/index.js';
import type { ChannelAdapter } from '../channels/index.js';
import type { OutboxRecord } from '../store/index.js';
import { CHANNEL_NAMES, checkChannelSettings, createChannelAdapter, emitChannelStart, hostChannel, onStopSignals, type ChannelName, type HostedChannel } from './channel-host.js';
import { buildServeComponents } from './serve-components.js';
import { createApp, type App } from './create-app.js';
import { ConfigError, backoffDelay, errorChain, type Component } from '../kernel/index.js';

export interface ServeOptions {
  /** For tests: a prebuilt app (closed by serve). */
  app?: App;
  /** Stop when this aborts (besides SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Listen for SIGINT/SIGTERM. Default true. */
  handleSignals?: boolean;
  /** Longest wait for a component to stop, and for the runtime to go idle. Default 10 s. */
  stopTimeoutMs?: number;
}

/** One enabled channel (a kernel Component), restarted with backoff when its runner fails for good. */
class ChannelSupervisor implements Component {
  current: HostedChannel | undefined;
  private readonly totals = { in: 0, out: 0, reconnects: 0 };
  private restarts = 0;
  private readonly stopCtl = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    private readonly app: App,
    readonly channel: ChannelName,
    /** The first adapter, built (and validated) before serve starts. */
    private first: ChannelAdapter | undefined,
  ) {}

  get name(): string {
    return `channel:${this.channel}`;
  }

  async start(): Promise<void> {
    this.running ??= this.run(this.stopCtl.signal).catch((err) => emitEvent('serve_channel_failed', { channel: this.channel, error: errorChain(err), retry_in_ms: null }));
  }

  /** Stops polling and drains in-flight turns (bounded by the runner's drain). */
  async stop(): Promise<void> {
    this.stopCtl.abort();
    await this.running;
  }

  /** The one delivery function's road into this channel. */
  deliver(chatId: string, text: string): Promise<void> {
    if (!this.current || !this.ready()) return Promise.reject(new Error(`channel ${this.channel} is not connected`));
    return this.current.runner.deliver(chatId, text);
  }

  sample(): ChannelSample {
    const h = this.current;
    const s = h?.runner.stats;
    return {
      channel: this.channel,
      messagesIn: this.totals.in + (s?.messagesIn ?? 0),
      messagesOut: this.totals.out + (s?.messagesOut ?? 0),
      reconnects: this.totals.reconnects + this.restarts + adapterReconnects(h),
      ready: this.ready(),
    };
  }

  ready(): boolean {
    const h = this.current;
    return !!h && !h.runner.isStopping && h.adapter.isReady();
  }

  queueDepths(out: Record<string, number>): void {
    const h = this.current;
    if (!h) return;
    out[`channel_${this.channel}`] = h.runner.stats.queueDepth;
    const outbound = (h.adapter as { queueDepth?: unknown }).queueDepth;
    if (typeof outbound === 'number') out[`outbound_${this.channel}`] = outbound;
  }

  abortTurns(): void {
    this.current?.runner.abortTurns();
  }

  private async run(stop: AbortSignal): Promise<void> {
    let failures = 0;
    while (!stop.aborted) {
      const adapter = this.first ?? (await createChannelAdapter(this.app.settings, this.channel));
      this.first = undefined;
      const hosted = hostChannel(this.app, adapter);
      this.current = hosted;
      const startedAt = Date.now();
      let delay = 0;
      try {
        await hosted.runner.run(stop);
        return;
      } catch (err) {
        if (Date.now() - startedAt > 60_000) failures = 0;
        emitEvent('serve_channel_failed', { channel: this.channel, error: errorChain(err), retry_in_ms: (delay = backoffDelay(failures++, 2000, 300_000)) });
      } finally {
        hosted.dispose();
        const s = hosted.runner.stats;
        this.totals.in += s.messagesIn;
        this.totals.out += s.messagesOut;
        this.totals.reconnects += adapterReconnects(hosted);
      }
      if (stop.aborted) return;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        stop.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
      this.restarts++;
    }
  }
}

function adapterReconnects(h: HostedChannel | undefined): number {
  const a = h?.adapter as { reconnects?: unknown; stallRestarts?: unknown } | undefined;
  const n = typeof a?.reconnects === 'number' ? a.reconnects : typeof a?.stallRestarts === 'number' ? a.stallRestarts : 0;
  return Number.isFinite(n) ? n : 0;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<'timeout'>((resolve) => (t = setTimeout(() => resolve('timeout'), ms)))]).finally(() => clearTimeout(t));
}

/** Runs serve until a signal; resolves with the exit code once everything has stopped. */
export async function runServe(options: ServeOptions = {}): Promise<number> {
  // Telemetry merges under a lock with an fsync: in a busy long-running process once in 2 s is plenty.
  const app = options.app ?? (await createApp({ telemetryDebounceMs: 2000, commitLog: true }));
  const settings = app.settings;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const stop = new AbortController();
  let stopping = false;
  const startedAt = performance.now();

  const enabled = CHANNEL_NAMES.filter((c) => settings.channels[c].enabled);
  const supervisors: ChannelSupervisor[] = [];
  let components: Component[] = [];
  const started = new Map<string, boolean>();
  let ops: OpsServer | undefined;
  let metrics: ServeMetrics | undefined;
  let offTurns: (() => void) | undefined;
  let offSignals: (() => void) | undefined;
  const onExternal = (): void => stop.abort();

  let booting = true;
  const pendingTurns: TurnSample[] = [];

  try {
    if (settings.ops.error) throw new ConfigError(settings.ops.error, { hint: 'set RUSTY_PINCH_OPS_ADDR to host:port (e.g. 127.0.0.1:9464) or to off' });
    // Fail fast on a channel that is enabled but cannot work (missing token, bad bridge URL).
    for (const c of enabled) {
      checkChannelSettings(settings, c);
      supervisors.push(new ChannelSupervisor(app, c, await createChannelAdapter(settings, c)));
    }
    if (settings.ops.nonLoopback) {
      const n = settings.ops.nonLoopback;
      emitEvent('warning', {
        message: n.action === 'allowed' ? `ops endpoint exposed on non-loopback host ${n.host} (RUSTY_PINCH_OPS_ALLOW_NON_LOOPBACK=true); it has no authentication` : `RUSTY_PINCH_OPS_ADDR host ${n.host} is not loopback; listening on 127.0.0.1 instead (set RUSTY_PINCH_OPS_ALLOW_NON_LOOPBACK=true to expose it)`,
        component: 'ops',
      });
    }
    // Turns are counted from the first one; metrics load in the background (prom-client is lazy).
    offTurns = app.runtime.onTurn((r) => (metrics ? metrics.recordTurn(r) : settings.ops.addr ? void pendingTurns.push(r) : undefined));
    if (options.handleSignals !== false) {
      offSignals = onStopSignals((count) => {
        if (count === 1) stop.abort();
        else for (const s of supervisors) s.abortTurns();
      });
    }
    if (options.signal?.aborted) stop.abort();
    options.signal?.addEventListener('abort', onExternal, { once: true });

    // The ops endpoint first (fails fast on a busy port), then the channels connect while the
    // metrics library and the components load.
    const readiness = (): Readiness => {
      const checks: Record<string, boolean> = {};
      for (const s of supervisors) checks[s.name] = s.ready();
      for (const c of components) checks[`component:${c.name}`] = (started.get(c.name) ?? false) && safeReady(c);
      const ready = !stopping && !booting && Object.values(checks).every(Boolean);
      return { ready, checks, ...(stopping ? { reason: 'stopping' } : booting ? { reason: 'starting' } : {}) };
    };
    // The metrics library loads later (first scrape, or a moment after start): it is the
    // largest module of serve, and loading it delayed readiness on a busy machine. Turns are
    // buffered until then.
    let metricsLoad: Promise<ServeMetrics> | undefined;
    const loadMetrics = (): Promise<ServeMetrics> =>
      (metricsLoad ??= createMetrics({
        channels: () => supervisors.map((s) => s.sample()),
        queues: () => {
          const q: Record<string, number> = { runtime_turns: app.runtime.queueDepth };
          for (const s of supervisors) s.queueDepths(q);
          if (app.codex) q.codex = app.codex.peekWork().queueDepth;
          for (const c of components) {
            const depth = (c as { depth?: () => number }).depth?.();
            if (depth !== undefined) q[c.name] = depth;
          }
          return q;
        },
      }).then((m) => {
        metrics = m;
        for (const r of pendingTurns.splice(0)) m.recordTurn(r);
        return m;
      }));
    if (settings.ops.addr) {
      const { host, port } = settings.ops.addr;
      try {
        ops = await startOpsServer({ host, port, readiness, metrics: async () => (await loadMetrics()).render() });
      } catch (err) {
        throw new ConfigError(`ops endpoint cannot listen on ${host}:${port}: ${errorChain(err)}`, { hint: 'set RUSTY_PINCH_OPS_ADDR to a free loopback address (e.g. 127.0.0.1:9465) or to off' });
      }
      emitEvent('ops_listening', { addr: `${host.includes(':') ? `[${host}]` : host}:${ops.port}`, endpoints: ['/healthz', '/readyz', '/metrics'] });
    }

    if (supervisors.length === 0) emitEvent('serve_no_channels', { message: 'no channel enabled (set RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED or _WHATSAPP_ENABLED); serving components and the ops endpoint only' });
    for (const s of supervisors) {
      emitChannelStart(settings, s.channel, undefined);
      await s.start();
    }

    components = await buildServeComponents(app, { deliver: (r) => deliver(supervisors, r) });
    for (const c of components) {
      if (stop.signal.aborted) break;
      try {
        await c.start();
        started.set(c.name, true);
      } catch (err) {
        emitEvent('serve_component_error', { component: c.name, phase: 'start', error: errorChain(err) });
      }
    }
    booting = false;
    if (ops) setTimeout(() => void loadMetrics().catch((err) => emitEvent('warning', { message: `metrics unavailable: ${errorChain(err)}`, component: 'ops' })), 1500).unref();
    emitEvent('serve_start', { channels: supervisors.map((s) => s.channel), components: components.map((c) => c.name), ops_addr: ops ? `${ops.host}:${ops.port}` : null, startup_ms: Math.round(performance.now() - startedAt) });

    // serve runs until it is signalled, even with nothing else holding the event loop (no
    // channel, ops off, an unref'd scheduler timer): an abort listener alone keeps nothing alive.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    await new Promise<void>((resolve) => (stop.signal.aborted ? resolve() : stop.signal.addEventListener('abort', () => resolve(), { once: true })));
    clearInterval(keepAlive);
    stopping = true;
    emitEvent('serve_stopping', { channels: supervisors.map((s) => s.channel) });
  } finally {
    stopping = true;
    stop.abort();
    // Channels drain in-flight turns (bounded by their drain) while the components stop; what
    // the outbox could not send yet stays on disk for the next start.
    const stopComponents = async (): Promise<void> => {
      for (const c of [...components].reverse()) {
        if (!started.get(c.name)) continue;
        const r = await withTimeout(c.stop().catch((err) => emitEvent('serve_component_error', { component: c.name, phase: 'stop', error: errorChain(err) })), stopTimeoutMs);
        if (r === 'timeout') emitEvent('serve_component_error', { component: c.name, phase: 'stop', error: `did not stop within ${stopTimeoutMs} ms` });
      }
    };
    await Promise.all([...supervisors.map((s) => s.stop()), stopComponents()]);
    if ((await withTimeout(app.close(), stopTimeoutMs)) === 'timeout') emitEvent('warning', { message: `runtime did not go idle within ${stopTimeoutMs} ms`, component: 'serve' });
    offTurns?.();
    offSignals?.();
    options.signal?.removeEventListener('abort', onExternal);
    await ops?.close();
  }
  emitEvent('serve_stop', { reason: 'signal' });
  return 0;
}

function safeReady(c: Component): boolean {
  try {
    return c.ready();
  } catch {
    return false;
  }
}

/** The one delivery function: an outbox record to the runner of the channel that owns its chat. */
async function deliver(supervisors: ChannelSupervisor[], record: OutboxRecord): Promise<void> {
  const s = supervisors.find((x) => x.channel === record.channel);
  if (!s) throw new Error(`channel ${record.channel || '(none)'} is not enabled in this serve`);
  await s.deliver(record.chat_id, record.text);
}
