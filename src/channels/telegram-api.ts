// The grammY Bot API client for the Telegram adapter (loaded lazily, so importing the channels
// face costs nothing), with auto-retry honouring 429 retry_after, a request timeout, an HTTP
// and error classification with the token scrubbed out.
import type { Api } from 'grammy';
import { AppError } from '../kernel/index.js';

export interface TelegramClient {
  api: Api;
}

export interface ClientOptions {
  token: string;
  apiRoot: string | undefined;
  /** Per-request timeout in seconds (must exceed the long-poll timeout). */
  timeoutSecs: number;
  /** Longest retry_after we wait for inside one call; longer ones surface as errors. */
  maxRetryAfterSecs?: number;
}

export async function createTelegramClient(options: ClientOptions): Promise<TelegramClient> {
  const [{ Api }, { autoRetry }] = await Promise.all([import('grammy'), import('@grammyjs/auto-retry')]);
  const root = options.apiRoot ?? 'https://api.telegram.org';
  // grammY keeps connections alive with its own agent; Node unrefs idle sockets, so they never
  // hold the process open after a stop.
  const api = new Api(options.token, { apiRoot: root, timeoutSeconds: options.timeoutSecs });
  // 429 → wait retry_after and repeat (bounded). 5xx and network errors come back to us: the
  // poll loop and the send path apply their own exponential backoff.
  api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: options.maxRetryAfterSecs ?? 60, rethrowInternalServerErrors: true, rethrowHttpErrors: true }));
  return { api };
}

/** grammY types its signals with the abort-controller polyfill; Node's are compatible at runtime. */
export type GrammySignal = Parameters<Api['getMe']>[0];
export function grammySignal(signal: AbortSignal): GrammySignal {
  return signal as unknown as GrammySignal;
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
