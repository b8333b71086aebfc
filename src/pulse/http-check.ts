// HTTP health checks and approved HTTP calls, through the one outbound HTTP policy (net/): the
// URL is checked, every resolved address too (unless the operator allowed private hosts), and
// the connection is pinned to a checked address. Keep-alive agents, a hard timeout, no
// redirects followed, the response body drained (capped for calls).
import http from 'node:http';
import https from 'node:https';
import { outboundRequest, type HttpResult } from '../net/index.js';

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 64 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

export type { HttpResult };

const USER_AGENT = 'rusty-pinch-pulse';

/** One request; rejects on a refused address, network error or timeout. Body kept up to `maxBody` bytes. */
export function httpRequest(url: string, opts: { method?: string; body?: string; timeoutMs: number; maxBody?: number; fresh?: boolean; allowPrivate: boolean }): Promise<HttpResult> {
  const agent = opts.fresh ? undefined : url.startsWith('https:') ? agents.https : agents.http;
  return outboundRequest(opts.method ?? 'GET', url, opts.body, { policy: { allow: [], allowPrivate: opts.allowPrivate }, timeoutMs: opts.timeoutMs, maxBodyBytes: opts.maxBody ?? 0, truncate: true, userAgent: USER_AGENT, agent });
}

/** Runs a health check; messages as the original's (curl details replaced by the error). */
export async function runHttpHealthCheck(url: string, expectedStatus: number, timeoutSecs: number, allowPrivate: boolean): Promise<{ ok: boolean; message: string }> {
  try {
    let res: HttpResult;
    try {
      res = await httpRequest(url, { timeoutMs: timeoutSecs * 1000, allowPrivate });
    } catch (err) {
      // A pooled keep-alive socket the server already closed: retry once on a fresh connection.
      if ((err as { socketCode?: string }).socketCode !== 'ECONNRESET') throw err;
      res = await httpRequest(url, { timeoutMs: timeoutSecs * 1000, fresh: true, allowPrivate });
    }
    if (res.status !== expectedStatus) return { ok: false, message: `http healthcheck failed for ${url}: expected ${expectedStatus}, got ${res.status}` };
    return { ok: true, message: `http healthcheck ok: url=${url}, status=${res.status}` };
  } catch (err) {
    const e = err as { socketCode?: string; message: string };
    return { ok: false, message: `http healthcheck failed for ${url}: ${e.socketCode && !e.message.includes(e.socketCode) ? `${e.socketCode} ` : ''}${e.message}`.trim() };
  }
}
