// HTTP health check and approved HTTP calls: node:http(s) with keep-alive agents, a hard
// timeout, no redirects followed, and the response body drained (capped for calls).
import http from 'node:http';
import https from 'node:https';

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 64 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

export interface HttpResult {
  status: number;
  body: string;
}

/** One request; rejects on network error or timeout. Body kept up to `maxBody` bytes. */
export function httpRequest(url: string, opts: { method?: string; body?: string; timeoutMs: number; maxBody?: number; fresh?: boolean }): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new Error(`invalid url '${url}'`));
      return;
    }
    const mod = u.protocol === 'https:' ? https : http;
    const agent = opts.fresh ? false : u.protocol === 'https:' ? agents.https : agents.http;
    const headers: Record<string, string> = { 'user-agent': 'rusty-pinch-pulse' };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const req = mod.request(u, { method: opts.method ?? 'GET', agent, headers }, (res) => {
      const max = opts.maxBody ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < max) chunks.push(c.subarray(0, max - size));
        size += c.length;
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(opts.body);
  });
}

/** Runs a health check; messages as the original's (curl details replaced by the error). */
export async function runHttpHealthCheck(url: string, expectedStatus: number, timeoutSecs: number): Promise<{ ok: boolean; message: string }> {
  try {
    let res: HttpResult;
    try {
      res = await httpRequest(url, { timeoutMs: timeoutSecs * 1000 });
    } catch (err) {
      // A pooled keep-alive socket the server already closed: retry once on a fresh connection.
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') throw err;
      res = await httpRequest(url, { timeoutMs: timeoutSecs * 1000, fresh: true });
    }
    if (res.status !== expectedStatus) return { ok: false, message: `http healthcheck failed for ${url}: expected ${expectedStatus}, got ${res.status}` };
    return { ok: true, message: `http healthcheck ok: url=${url}, status=${res.status}` };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, message: `http healthcheck failed for ${url}: ${e.code ? `${e.code} ` : ''}${e.message}`.trim() };
  }
}
