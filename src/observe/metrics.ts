// Prometheus metrics for `serve`: turns by path/status, provider latency, channel messages,
// reconnects, readiness and queue depths. prom-client is loaded lazily (only serve pays for it).

/** The parts of a turn record the metrics read (structurally core's TurnRecord). */
export interface TurnSample {
  path: string;
  status: string;
  latency_ms: number | null;
}

/** Cumulative figures of one channel, read at scrape time. */
export interface ChannelSample {
  channel: string;
  messagesIn: number;
  messagesOut: number;
  reconnects: number;
  ready: boolean;
}

export interface MetricSources {
  channels(): ChannelSample[];
  /** Queue name → depth (runtime turns, chat queues, outbound, codex…). */
  queues(): Record<string, number>;
}

export interface ServeMetrics {
  recordTurn(turn: TurnSample): void;
  /** Prometheus text exposition and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** Provider latency buckets in seconds: 50 ms … 2 min (Codex turns are slow). */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export async function createMetrics(sources: MetricSources): Promise<ServeMetrics> {
  const prom = await import('prom-client');
  const registry = new prom.Registry();
  prom.collectDefaultMetrics({ register: registry, prefix: 'rusty_pinch_' });

  const turns = new prom.Counter({ name: 'rusty_pinch_turns_total', help: 'Turns by path (provider/tool/skill) and status (ok/error).', labelNames: ['path', 'status'], registers: [registry] });
  const latency = new prom.Histogram({ name: 'rusty_pinch_provider_latency_seconds', help: 'Provider call latency per turn.', labelNames: ['status'], buckets: LATENCY_BUCKETS, registers: [registry] });
  // Cumulative counters owned by the channels: reset and re-set from their figures on scrape.
  const safe = (fn: () => ChannelSample[]): ChannelSample[] => {
    try {
      return fn();
    } catch {
      return [];
    }
  };
  new prom.Counter({
    name: 'rusty_pinch_channel_messages_total',
    help: 'Chat messages by channel and direction (in: received, out: sent).',
    labelNames: ['channel', 'direction'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of safe(sources.channels)) {
        this.inc({ channel: c.channel, direction: 'in' }, c.messagesIn);
        this.inc({ channel: c.channel, direction: 'out' }, c.messagesOut);
      }
    },
  });
  new prom.Counter({
    name: 'rusty_pinch_channel_reconnects_total',
    help: 'Channel reconnects (WhatsApp bridge reconnections, Telegram polling restarts, channel restarts).',
    labelNames: ['channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of safe(sources.channels)) this.inc({ channel: c.channel }, c.reconnects);
    },
  });
  new prom.Gauge({
    name: 'rusty_pinch_channel_ready',
    help: '1 when the channel is connected/polling.',
    labelNames: ['channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of safe(sources.channels)) this.set({ channel: c.channel }, c.ready ? 1 : 0);
    },
  });
  new prom.Gauge({
    name: 'rusty_pinch_queue_depth',
    help: 'Items waiting, by queue.',
    labelNames: ['queue'],
    registers: [registry],
    collect() {
      this.reset();
      let q: Record<string, number> = {};
      try {
        q = sources.queues();
      } catch {
        // a source that fails must not break the scrape
      }
      for (const [name, depth] of Object.entries(q)) if (Number.isFinite(depth)) this.set({ queue: name }, depth);
    },
  });

  return {
    recordTurn(t) {
      turns.inc({ path: t.path, status: t.status });
      if (t.path === 'provider' && typeof t.latency_ms === 'number' && t.latency_ms >= 0) latency.observe({ status: t.status }, t.latency_ms / 1000);
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
