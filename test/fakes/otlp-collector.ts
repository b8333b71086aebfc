// A loopback OTLP/HTTP collector: records every JSON export request (/v1/traces, /v1/metrics).
// `delayMs` holds each answer (a slow collector); `status` answers with an error instead.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeCollector {
  url: string;
  traces: Array<Record<string, unknown>>;
  metrics: Array<Record<string, unknown>>;
  /** Span attribute maps of every span received. */
  spans(): Array<Record<string, unknown>>;
  /** Metric names received. */
  metricNames(): string[];
  waitFor(pred: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

type Attr = { key: string; value: Record<string, unknown> };
const flat = (attrs: Attr[] = []) => Object.fromEntries(attrs.map((a) => [a.key, Object.values(a.value)[0]]));

export async function startFakeCollector(options: { delayMs?: number; status?: number } = {}): Promise<FakeCollector> {
  const traces: Array<Record<string, unknown>> = [];
  const metrics: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        body = { raw: Buffer.concat(chunks).length };
      }
      const answer = () => {
        if (req.url === '/v1/traces') traces.push(body);
        else if (req.url === '/v1/metrics') metrics.push(body);
        for (const w of waiters) w();
        res.statusCode = options.status ?? 200;
        res.setHeader('content-type', 'application/json');
        res.end('{}');
      };
      if (options.delayMs) setTimeout(answer, options.delayMs).unref();
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const api: FakeCollector = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    traces,
    metrics,
    spans() {
      type Body = { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<{ name: string; attributes?: Attr[]; status?: { code?: number } }> }> }> };
      return traces.flatMap((b) => (b as Body).resourceSpans ?? []).flatMap((r) => r.scopeSpans ?? []).flatMap((s) => s.spans ?? []).map((s) => ({ ...flat(s.attributes), name: s.name, status_code: s.status?.code ?? 0 }));
    },
    metricNames() {
      type Body = { resourceMetrics?: Array<{ scopeMetrics?: Array<{ metrics?: Array<{ name: string }> }> }> };
      return [...new Set(metrics.flatMap((b) => (b as Body).resourceMetrics ?? []).flatMap((r) => r.scopeMetrics ?? []).flatMap((s) => s.metrics ?? []).map((m) => m.name))].sort();
    },
    waitFor(pred, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        if (pred()) return resolve();
        const timer = setTimeout(() => (waiters.delete(check), reject(new Error('collector: condition not met in time'))), timeoutMs);
        const check = () => {
          if (!pred()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
  return api;
}
