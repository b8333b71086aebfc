// A lean Telegram Bot API client (JSON over node:http/https with keep-alive sockets) and the
// classification of its failures, with the token scrubbed out. It replaces grammY's client on
// this path: under load grammY's node-fetch stack and retry middleware cost more CPU than the
// rest of a turn (bench/soak.bench.ts), and loading it slowed `serve`'s start. Retries live
// with the callers: the poll loop backs off, the send path applies the delivery rule
// (docs/delivery.md), both honour 429 retry_after.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { AppError } from '../kernel/index.js';

export interface ClientOptions {
  token: string;
  apiRoot: string | undefined;
  /** Per-request timeout in seconds (must exceed the long-poll timeout). */
  timeoutSecs: number;
}

/** Telegram answered `ok: false` (the shape classifyError reads). */
export class BotApiError extends AppError {
  constructor(
    readonly method: string,
    readonly error_code: number,
    readonly description: string,
    readonly parameters: { retry_after?: number } | undefined,
  ) {
    super('remote', `${method}: ${error_code} ${description}`);
    this.name = 'BotApiError';
  }
}

/** No answer from Telegram: `error` is the socket error (its `code` tells how far the request got). */
export class BotNetworkError extends AppError {
  constructor(
    readonly method: string,
    readonly error: Error,
  ) {
    super('network', `Network request for '${method}' failed!`);
    this.name = 'HttpError';
  }
}

export interface BotApi {
  getMe(signal?: AbortSignal): Promise<{ id: number; username?: string }>;
  deleteWebhook(params?: undefined, signal?: AbortSignal): Promise<boolean>;
  getUpdates(params: { offset: number; limit: number; timeout: number; allowed_updates: string[] }, signal?: AbortSignal): Promise<unknown[]>;
  sendMessage(chatId: string | number, text: string, other?: Record<string, unknown>): Promise<unknown>;
  sendChatAction(chatId: string | number, action: string): Promise<unknown>;
}

export interface TelegramClient {
  api: BotApi;
  /** Closes idle keep-alive sockets. */
  close(): void;
}

export async function createTelegramClient(options: ClientOptions): Promise<TelegramClient> {
  const root = new URL(`${(options.apiRoot ?? 'https://api.telegram.org').replace(/\/+$/, '')}/`);
  const https = root.protocol === 'https:';
  // Keep-alive sockets, unref'd while idle by Node, so they never hold the process open.
  const agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: 64 }) : new HttpAgent({ keepAlive: true, maxSockets: 64 });
  const send = https ? httpsRequest : httpRequest;
  const timeoutMs = options.timeoutSecs * 1000;
  // Request options built once (a URL parsed per call was a visible cost under load).
  const host = root.hostname.startsWith('[') ? root.hostname.slice(1, -1) : root.hostname;
  const port = root.port ? Number(root.port) : https ? 443 : 80;
  const base = `${root.pathname}bot${options.token}/`;

  function call<T>(method: string, params: unknown, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(new BotNetworkError(method, abortError()));
      const body = Buffer.from(params === undefined ? '{}' : JSON.stringify(params));
      const req = send({ host, port, path: base + method, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } });
      const fail = (err: Error): void => {
        cleanup();
        reject(new BotNetworkError(method, err));
      };
      const onAbort = (): void => void req.destroy(abortError());
      const timer = setTimeout(() => void req.destroy(new Error(`Request to '${method}' timed out after ${options.timeoutSecs} seconds`)), timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', fail);
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          cleanup();
          let j: { ok?: unknown; result?: unknown; error_code?: unknown; description?: unknown; parameters?: { retry_after?: number } };
          try {
            j = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof j;
          } catch {
            return reject(new BotApiError(method, res.statusCode && res.statusCode >= 400 ? res.statusCode : 502, `invalid JSON in the answer (HTTP ${res.statusCode})`, undefined));
          }
          if (j && j.ok === true) return resolve(j.result as T);
          const code = typeof j?.error_code === 'number' ? j.error_code : (res.statusCode ?? 500);
          reject(new BotApiError(method, code, typeof j?.description === 'string' ? j.description : 'unknown telegram error', j?.parameters));
        });
      });
      req.end(body);
    });
  }

  const api: BotApi = {
    getMe: (signal) => call('getMe', undefined, signal),
    deleteWebhook: (_params, signal) => call('deleteWebhook', undefined, signal),
    getUpdates: (params, signal) => call('getUpdates', params, signal),
    sendMessage: (chatId, text, other) => call('sendMessage', { chat_id: chatId, text, ...other }),
    sendChatAction: (chatId, action) => call('sendChatAction', { chat_id: chatId, action }),
  };
  return { api, close: () => agent.destroy() };
}

function abortError(): Error {
  const e = new Error('request aborted');
  e.name = 'AbortError';
  return e;
}

/** Kept for callers written for grammY: our client takes Node's AbortSignal as is. */
export function grammySignal(signal: AbortSignal): AbortSignal {
  return signal;
}

/** How a failed Bot API call should be treated. */
export interface Classified {
  /** Retrying cannot help (bad token, forbidden, bad request). */
  fatal: boolean;
  transient: boolean;
  status: number | undefined;
  retryAfterMs: number | undefined;
  /** Telegram rejected our HTML (the piece is re-sent as plain text). */
  badMarkup: boolean;
  /** The request surely never reached the server (safe to repeat a send without duplicates). */
  notSent: boolean;
  /**
   * No answer, but the request may have reached Telegram (reset, socket hang up, timeout): the
   * send may or may not have been delivered. Sends retry these too (at-least-once, docs/delivery.md).
   */
  unknownFate: boolean;
  message: string;
}

/** Connection errors that happen before any byte of the request reached the server. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

/** Classifies grammY's GrammyError / HttpError (and anything else) without the token. */
export function classifyError(err: unknown, token: string): Classified {
  const e = err as { error_code?: unknown; description?: unknown; parameters?: { retry_after?: unknown }; error?: unknown; message?: unknown; name?: unknown };
  const scrub = (s: string): string => (token ? s.split(token).join('***') : s);
  if (typeof e?.error_code === 'number') {
    const status = e.error_code;
    const description = typeof e.description === 'string' ? e.description : 'unknown telegram error';
    const retryAfter = typeof e.parameters?.retry_after === 'number' ? e.parameters.retry_after * 1000 : undefined;
    const badMarkup = status === 400 && /parse entities|can't find end|unsupported start tag|unexpected end tag|entity|message is too long/i.test(description);
    return {
      fatal: status === 401 || status === 404,
      transient: status >= 500 || status === 429 || status === 409,
      status,
      retryAfterMs: retryAfter,
      badMarkup,
      notSent: false,
      unknownFate: false,
      message: scrub(`telegram API returned error ${status}: ${description}`),
    };
  }
  // HttpError: the network failed; its `error` is the fetch error (whose text may hold the URL).
  const cause = e?.error instanceof Error ? `: ${e.error.message}` : '';
  const code = (e?.error as { code?: unknown } | undefined)?.code;
  const notSent = typeof code === 'string' && NOT_SENT.has(code);
  const base = err instanceof Error ? err.message : String(err);
  // Anything else without an HTTP answer (ECONNRESET, "socket hang up" on a reused keep-alive
  // socket, EPIPE, a timeout) leaves the send's fate unknown.
  return { fatal: false, transient: true, status: undefined, retryAfterMs: undefined, badMarkup: false, notSent, unknownFate: !notSent, message: scrub(`${base}${cause}`) };
}

/** A Bot API call failed; `message` never contains the token. */
/** A classified Bot API failure: code `remote` when Telegram answered, `network` when it did not. */
export class TelegramApiError extends AppError {
  readonly status: number | undefined;
  readonly transient: boolean;
  readonly retryAfterMs: number | undefined;
  constructor(c: Classified) {
    super(c.status === undefined ? 'network' : 'remote', c.message);
    this.name = 'TelegramApiError';
    this.status = c.status;
    this.transient = c.transient;
    this.retryAfterMs = c.retryAfterMs;
  }
}
