// The one outbound HTTP client (skills' http_get/http_post, Pulse health checks and HTTP
// actions): policy-checked URL, connection pinned to the checked address (a `lookup` that
// returns it, so DNS rebinding cannot switch it), no redirects followed, capped request and
// response bodies, a timeout.
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { checkSkillUrl, type UrlPolicy } from './url-policy.js';
import { AppError } from '../kernel/index.js';

/** The skills' User-Agent: curl-like (wttr.in answers curl with plain text). */
export const SKILL_USER_AGENT = 'curl/8.5.0 (rusty-pinch skill)';

export interface HttpCallOptions {
  policy: UrlPolicy;
  timeoutMs: number;
  maxBodyBytes: number;
  signal?: AbortSignal;
  /** Default: the skills' curl-like agent. */
  userAgent?: string;
  /** A keep-alive agent (reused sockets were pinned when they connected). Default: none. */
  agent?: http.Agent;
  /** Body over maxBodyBytes: kept up to the cap (true) or the call fails (default). */
  truncate?: boolean;
}

export interface HttpResult {
  status: number;
  body: string;
  /** Present on 3xx answers: redirects are returned to the skill, never followed. */
  location?: string;
}

export class SkillHttpError extends AppError {
  /** The socket error's code (ECONNRESET, ECONNREFUSED …), when there was one. */
  readonly socketCode: string | undefined;
  constructor(message: string, socketCode?: string) {
    super('skill_http', message);
    this.socketCode = socketCode;
  }
}

export async function skillHttpRequest(method: string, rawUrl: string, body: string | undefined, opts: HttpCallOptions): Promise<HttpResult> {
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
  const headers: Record<string, string | number> = { 'user-agent': opts.userAgent ?? SKILL_USER_AGENT, accept: '*/*' };
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
        reject(err instanceof SkillHttpError ? err : new SkillHttpError(`http ${method} failed: ${err.message}`, (err as NodeJS.ErrnoException).code));
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
      agent: opts.agent ?? false,
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
          if (opts.truncate) {
            const room = opts.maxBodyBytes - (size - chunk.length);
            if (room > 0) chunks.push(chunk.subarray(0, room));
            return;
          }
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
