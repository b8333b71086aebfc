// The loopback ops endpoint of `serve`: /healthz (process alive), /readyz (every enabled channel
// and component ready; 503 with what is not), /metrics (Prometheus text). GET and HEAD only.
// Hardened for a process that runs for years: every connection has a deadline (headers,
// request, keep-alive, idle socket), the number of open connections is capped (the oldest idle
// one makes room, so a flood of idle sockets cannot starve /healthz or the process's file
// descriptors), and requests must name an allowed Host (a DNS-rebinding page cannot read it).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo, type Socket } from 'node:net';

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
  /** Open connections at most (default 64); beyond it the oldest idle one is closed. */
  maxConnections?: number;
  /** Deadlines in ms (defaults: headers 5 s, request 10 s, keep-alive 5 s; a connection serving no request for idle 15 s is closed). */
  timeouts?: { headersMs?: number; requestMs?: number; keepAliveMs?: number; idleMs?: number };
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);

/**
 * The Host header names this endpoint: loopback names, the configured bind host, and for a
 * wildcard bind any IP literal (DNS rebinding always comes with a host *name*). No Host header
 * (HTTP/1.0) is accepted.
 */
export function hostAllowed(header: string | undefined, bindHost: string): boolean {
  if (header === undefined) return true;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(header.trim().toLowerCase());
  if (!m) return false;
  const host = (m[1] as string).replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (host === 'localhost' || host === '::1') return true;
  if (isIP(host) === 4 && host.startsWith('127.')) return true;
  if (host === bindHost.toLowerCase().replace(/^\[|\]$/g, '')) return true;
  return WILDCARD.has(bindHost) && isIP(host) !== 0;
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
  if (!hostAllowed(req.headers.host, opts.host)) {
    res.setHeader('connection', 'close');
    return reply(res, 421, 'text/plain; charset=utf-8', 'misdirected request: unknown Host\n', head);
  }
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
  const t = opts.timeouts ?? {};
  const headersMs = t.headersMs ?? 5000;
  // Node checks header/request deadlines on this interval (default 30 s: far too lax).
  const server = createServer({ connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersMs / 2))), requireHostHeader: false }, (req, res) => {
    busy.add(req.socket);
    res.on('close', () => {
      busy.delete(req.socket);
      idleSince.set(req.socket, Date.now());
    });
    route(opts, req, res).catch((err) => {
      if (!res.headersSent) reply(res, 500, 'text/plain; charset=utf-8', `internal error: ${(err as Error)?.message ?? err}\n`, false);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = t.keepAliveMs ?? 5000;
  server.headersTimeout = headersMs;
  server.requestTimeout = t.requestMs ?? 10_000;
  const max = Math.max(1, opts.maxConnections ?? 64);
  const open = new Set<Socket>(); // insertion order = age
  const busy = new Set<Socket>();
  const idleSince = new Map<Socket, number>();
  // Node's per-phase deadlines (headers, request, keep-alive) are checked on an interval and
  // differ by phase; one sweep also closes any connection that has served no request for idleMs,
  // whatever phase it is stuck in.
  const idleMs = t.idleMs ?? 15_000;
  const sweep = setInterval(() => {
    const cutoff = Date.now() - idleMs;
    for (const s of open) if (!busy.has(s) && (idleSince.get(s) ?? 0) <= cutoff) s.destroy();
  }, Math.max(50, Math.min(1000, Math.floor(idleMs / 4))));
  sweep.unref();
  server.on('close', () => clearInterval(sweep));
  server.on('connection', (socket: Socket) => {
    if (open.size >= max) {
      let victim: Socket | undefined;
      for (const s of open) {
        if (!busy.has(s)) {
          victim = s;
          break;
        }
      }
      if (victim) {
        open.delete(victim);
        victim.destroy();
      } else {
        socket.destroy(); // every slot is serving a request: refuse the newcomer
        return;
      }
    }
    open.add(socket);
    idleSince.set(socket, Date.now());
    socket.once('close', () => {
      open.delete(socket);
      busy.delete(socket);
      idleSince.delete(socket);
    });
  });
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
