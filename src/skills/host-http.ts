// http_get/http_post for skills: policy-checked URL, connection pinned to the checked address
// (a `lookup` that returns it, so DNS rebinding cannot switch it), no redirects followed,
// capped request and response bodies, a timeout, and a curl-like User-Agent (wttr.in parity).
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { checkSkillUrl, type UrlPolicy } from './url-policy.js';

export const SKILL_USER_AGENT = 'curl/8.5.0 (rusty-pinch skill)';

export interface HttpCallOptions {
  policy: UrlPolicy;
  timeoutMs: number;
  maxBodyBytes: number;
  signal?: AbortSignal;
}

export interface HttpResult {
  status: number;
  body: string;
  /** Present on 3xx answers: redirects are returned to the skill, never followed. */
  location?: string;
}

/**
 * The abort controller of one skill run: every http call in flight listens on its signal (and
 * stops listening when it settles), so a run with more than ten calls at once is normal, not a
 * leak. Without this Node prints a MaxListenersExceededWarning, a non-JSON stderr line.
 */
export function httpAbortController(): AbortController {
  const c = new AbortController();
  setMaxListeners(0, c.signal); // bounded by the per-run http budget, not by this count
  return c;
}

export class SkillHttpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SkillHttpError';
  }
}

export async function skillHttpRequest(method: 'GET' | 'POST', rawUrl: string, body: string | undefined, opts: HttpCallOptions): Promise<HttpResult> {
  const target = await checkSkillUrl(rawUrl, opts.policy);
  if (opts.signal?.aborted) throw new SkillHttpError(`http ${method} aborted`);
  const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
  if (payload && payload.length > opts.maxBodyBytes) throw new SkillHttpError(`http ${method} request body exceeds ${opts.maxBodyBytes} bytes`);
  const { address, family } = target.address;
  const lookup: LookupFunction = (_host, options, cb) => {
    if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address, family }]);
    else cb(null, address, family);
  };
  const mod = target.url.protocol === 'https:' ? https : http;
  const headers: Record<string, string | number> = { 'user-agent': SKILL_USER_AGENT, accept: '*/*' };
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = payload.length;
  }
  return new Promise<HttpResult>((resolve, reject) => {
    let done = false;
    const finish = (err: Error | undefined, result?: HttpResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) {
        req.destroy();
        reject(err instanceof SkillHttpError ? err : new SkillHttpError(`http ${method} failed: ${err.message}`));
      } else resolve(result!);
    };
    const onAbort = () => finish(new SkillHttpError(`http ${method} aborted`));
    const req = mod.request({
      protocol: target.url.protocol,
      hostname: target.hostname,
      port: target.port,
      path: `${target.url.pathname}${target.url.search}`,
      method,
      headers,
      lookup,
      family,
      agent: false,
      servername: isIP(target.hostname) ? undefined : target.hostname,
    });
    const timer = setTimeout(() => finish(new SkillHttpError(`http ${method} timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => finish(err));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > opts.maxBodyBytes) {
          res.destroy();
          finish(new SkillHttpError(`http ${method} response body exceeds ${opts.maxBodyBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (err) => finish(err));
      res.on('close', () => finish(new SkillHttpError(`http ${method} failed: connection closed before the response ended`)));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const result: HttpResult = { status, body: new TextDecoder('utf-8').decode(Buffer.concat(chunks)) };
        if (status >= 300 && status < 400 && typeof res.headers.location === 'string') result.location = res.headers.location;
        finish(undefined, result);
      });
    });
    req.end(payload);
  });
}
