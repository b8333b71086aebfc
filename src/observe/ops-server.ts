// The loopback ops endpoint of `serve`: /healthz (process alive), /readyz (every enabled channel
// and component ready; 503 with what is not), /metrics (Prometheus text). GET and HEAD only.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Readiness {
  ready: boolean;
  /** Name → ready, e.g. `channel:telegram`, `component:pulse`. */
  checks: Record<string, boolean>;
  /** Why not ready beyond the checks (e.g. `stopping`). */
  reason?: string;
}

export interface OpsServerOptions {
  host: string;
  port: number;
  readiness(): Readiness;
  /** Undefined: /metrics answers 404. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
}

export interface OpsServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

function reply(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(head ? undefined : body);
}

async function route(opts: OpsServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const head = req.method === 'HEAD';
  if (req.method !== 'GET' && !head) {
    res.setHeader('allow', 'GET, HEAD');
    return reply(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', false);
  }
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') return reply(res, 200, 'text/plain; charset=utf-8', 'ok\n', head);
  if (path === '/readyz') {
    const r = opts.readiness();
    const notReady = Object.entries(r.checks).filter(([, ok]) => !ok).map(([name]) => name);
    const body = JSON.stringify({ status: r.ready ? 'ready' : 'not_ready', checks: r.checks, not_ready: notReady, ...(r.reason ? { reason: r.reason } : {}) });
    return reply(res, r.ready ? 200 : 503, 'application/json', body + '\n', head);
  }
  if (path === '/metrics' && opts.metrics) {
    const m = await opts.metrics();
    return reply(res, 200, m.contentType, m.body, head);
  }
  return reply(res, 404, 'text/plain; charset=utf-8', 'not found (try /healthz, /readyz, /metrics)\n', head);
}

/** Listens on host:port; rejects when the address cannot be bound (in use, not local…). */
export function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const server = createServer((req, res) => {
    route(opts, req, res).catch((err) => {
      if (!res.headersSent) reply(res, 500, 'text/plain; charset=utf-8', `internal error: ${(err as Error)?.message ?? err}\n`, false);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port, exclusive: true }, () => {
      server.off('error', reject);
      const a = server.address() as AddressInfo;
      resolve({
        host: opts.host,
        port: a.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
