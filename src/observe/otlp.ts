// Optional OTLP/HTTP export of turn spans and metrics through the OpenTelemetry SDK. Loaded
// only when an endpoint is configured (never on the default start-up path); the packages are
// optional dependencies, imported here dynamically.
//
// A turn never waits for it: `record` only pushes the finished turn record into a bounded
// ring (the oldest is dropped when full) and schedules a drain on a later tick. The drain turns
// records into spans and metric points; the SDK's batch processor (its own bounded queue) and
// periodic reader export them with a timeout and at most one request in flight each, so a
// dead or slow collector costs dropped telemetry, never turn latency.
import type { TurnRecord } from '../kernel/index.js';
import { ConfigError, errorChain } from '../kernel/index.js';

export interface OtlpOptions {
  endpoint: string;
  serviceName: string;
  serviceVersion: string;
  metricIntervalMs: number;
  /** Per export request, retries included. Default 2000. */
  exportTimeoutMs?: number;
  /** Finished turns waiting to become spans/points. Default 1024. */
  queueCapacity?: number;
}

export interface OtlpStats {
  /** Records handed to the SDK. */
  recorded: number;
  /** Records dropped because the ring was full. */
  dropped: number;
  /** Export requests that failed (dead or slow collector). */
  exportFailures: number;
}

export interface OtlpExport {
  record(turn: TurnRecord): void;
  readonly stats: OtlpStats;
  /** Flushes what is queued, bounded by `timeoutMs` (default 2000): exit is never held longer. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/** A ring of fixed capacity: push is O(1) and never grows memory; overflow drops the oldest. */
export class BoundedQueue<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private size = 0;
  dropped = 0;
  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(Math.max(1, capacity));
  }
  get length(): number {
    return this.size;
  }
  push(item: T): void {
    const cap = this.items.length;
    if (this.size === cap) {
      this.head = (this.head + 1) % cap;
      this.size--;
      this.dropped++;
    }
    this.items[(this.head + this.size) % cap] = item;
    this.size++;
  }
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.size--;
    return item;
  }
}

type Sdk = Awaited<ReturnType<typeof loadSdk>>;

async function loadSdk() {
  try {
    const [api, resources, trace, metrics, traceExp, metricExp] = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-trace'),
      import('@opentelemetry/sdk-metrics'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/exporter-metrics-otlp-http'),
    ]);
    return { api, resources, trace, metrics, traceExp, metricExp };
  } catch (err) {
    throw new ConfigError(`OTLP export is configured but the OpenTelemetry packages cannot be loaded: ${errorChain(err)}`, {
      hint: 'Run `npm install --omit=dev` in the install directory (it adds the optional @opentelemetry packages), or unset RUSTY_PINCH_OTEL_EXPORTER_OTLP_ENDPOINT.',
    });
  }
}

/** Counts failed exports without letting the SDK log or throw into our process. */
function counting<E extends { export: (items: never, cb: (r: { code: number; error?: Error }) => void) => void }>(exporter: E, stats: OtlpStats): E {
  const original = exporter.export.bind(exporter);
  exporter.export = ((items: never, cb: (r: { code: number; error?: Error }) => void) =>
    original(items, (r) => {
      if (r.code !== 0) stats.exportFailures++;
      cb(r);
    })) as E['export'];
  return exporter;
}

function build(sdk: Sdk, o: OtlpOptions, stats: OtlpStats) {
  const timeoutMillis = o.exportTimeoutMs ?? 2000;
  const resource = sdk.resources.resourceFromAttributes({ 'service.name': o.serviceName, 'service.version': o.serviceVersion });
  const spanExporter = counting(new sdk.traceExp.OTLPTraceExporter({ url: `${o.endpoint}/v1/traces`, timeoutMillis, concurrencyLimit: 1, keepAlive: false }), stats);
  const tracerProvider = new sdk.trace.TracerProvider({
    resource,
    spanProcessors: [new sdk.trace.BatchSpanProcessor({ exporter: spanExporter, maxQueueSize: 2048, maxExportBatchSize: 256, scheduledDelayMillis: 2000, exportTimeoutMillis: timeoutMillis })],
  });
  const metricExporter = counting(new sdk.metricExp.OTLPMetricExporter({ url: `${o.endpoint}/v1/metrics`, timeoutMillis, concurrencyLimit: 1, keepAlive: false }), stats);
  const meterProvider = new sdk.metrics.MeterProvider({
    resource,
    readers: [new sdk.metrics.PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: o.metricIntervalMs, exportTimeoutMillis: Math.min(timeoutMillis, o.metricIntervalMs) })],
  });
  const tracer = tracerProvider.getTracer('rusty-pinch', o.serviceVersion);
  const meter = meterProvider.getMeter('rusty-pinch', o.serviceVersion);
  const instruments = {
    turns: meter.createCounter('turns_total', { description: 'Turns by path and status' }),
    turnLatency: meter.createHistogram('turn_latency_seconds', { unit: 's', description: 'Turn latency (provider, skill and tool paths)' }),
    providerLatency: meter.createHistogram('provider_latency_seconds', { unit: 's', description: 'Provider call latency, retries included' }),
    tools: meter.createCounter('tool_executions_total', { description: 'Tool and skill executions' }),
  };
  return { tracerProvider, meterProvider, tracer, instruments };
}

/** Turns one finished turn record into a span (timed after the fact) and metric points. */
function exportTurn(sdk: Sdk, b: ReturnType<typeof build>, t: TurnRecord): void {
  const end = Date.parse(t.timestamp) || Date.now();
  const start = end - (t.latency_ms ?? 0);
  const attrs = { path: t.path, status: t.status, provider: t.provider, model: t.model };
  const span = b.tracer.startSpan(`turn ${t.path}`, {
    startTime: start,
    attributes: { ...attrs, request_id: t.request_id, session_id: t.session_id, ...(t.tool_name ? { tool_name: t.tool_name } : {}), ...(t.attempts !== null ? { attempts: t.attempts } : {}), user_chars: t.user_chars, response_chars: t.response_chars },
  });
  if (t.status !== 'ok') span.setStatus({ code: sdk.api.SpanStatusCode.ERROR, message: (t.error ?? t.status).slice(0, 200) });
  span.end(end);
  b.instruments.turns.add(1, attrs);
  if (t.latency_ms !== null) {
    b.instruments.turnLatency.record(t.latency_ms / 1000, { path: t.path, status: t.status });
    if (t.path === 'provider') b.instruments.providerLatency.record(t.latency_ms / 1000, attrs);
  }
  if (t.tool_name) b.instruments.tools.add(1, { tool_name: t.tool_name, source: t.path, status: t.status });
}

/** Loads the SDK and starts exporting; throws ConfigError when the packages are missing. */
export async function startOtlpExport(o: OtlpOptions): Promise<OtlpExport> {
  const sdk = await loadSdk();
  const stats: OtlpStats = { recorded: 0, dropped: 0, exportFailures: 0 };
  const b = build(sdk, o, stats);
  const queue = new BoundedQueue<TurnRecord>(o.queueCapacity ?? 1024);
  let scheduled: NodeJS.Immediate | undefined;
  let closed = false;
  const drain = () => {
    scheduled = undefined;
    // A bounded slice per tick, so a burst never holds the event loop.
    for (let i = 0; i < 256; i++) {
      const t = queue.shift();
      if (!t) break;
      try {
        exportTurn(sdk, b, t);
        stats.recorded++;
      } catch {
        // telemetry must never break the process
      }
    }
    if (queue.length > 0 && !closed) scheduled = setImmediate(drain);
  };
  return {
    get stats() {
      return { ...stats, dropped: queue.dropped };
    },
    record(turn) {
      if (closed) return;
      queue.push(turn);
      if (!scheduled) {
        scheduled = setImmediate(drain);
        scheduled.unref();
      }
    },
    async shutdown(timeoutMs = 2000) {
      if (closed) return;
      if (scheduled) clearImmediate(scheduled);
      drain();
      closed = true;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      });
      const flush = Promise.allSettled([b.tracerProvider.shutdown(), b.meterProvider.shutdown()]).then(() => undefined);
      await Promise.race([flush, deadline]);
      clearTimeout(timer);
    },
  };
}
