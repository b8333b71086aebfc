// The grammY Bot API client for the Telegram adapter (loaded lazily, so importing the channels
// face costs nothing), with auto-retry honouring 429 retry_after, a request timeout, an HTTP
// agent we can close at stop, and error classification with the token scrubbed out.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Api } from 'grammy';

export interface TelegramClient {
  api: Api;
  /** Closes idle keep-alive sockets (the process can exit). */
  close(): void;
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
  const agent = root.startsWith('https:') ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const api = new Api(options.token, {
    apiRoot: root,
    timeoutSeconds: options.timeoutSecs,
    baseFetchConfig: { agent },
  });
  // 429 → wait retry_after and repeat (bounded). 5xx and network errors come back to us: the
  // poll loop and the send path apply their own exponential backoff.
  api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: options.maxRetryAfterSecs ?? 60, rethrowInternalServerErrors: true, rethrowHttpErrors: true }));
  return { api, close: () => agent.destroy() };
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
  message: string;
}

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
      message: scrub(`telegram API returned error ${status}: ${description}`),
    };
  }
  // HttpError: the network failed; its `error` is the fetch error (whose text may hold the URL).
  const cause = e?.error instanceof Error ? `: ${e.error.message}` : '';
  const base = err instanceof Error ? err.message : String(err);
  return { fatal: false, transient: true, status: undefined, retryAfterMs: undefined, badMarkup: false, message: scrub(`${base}${cause}`) };
}

/** A Bot API call failed; `message` never contains the token. */
export class TelegramApiError extends Error {
  readonly status: number | undefined;
  readonly transient: boolean;
  readonly retryAfterMs: number | undefined;
  constructor(c: Classified) {
    super(c.message);
    this.name = 'TelegramApiError';
    this.status = c.status;
    this.transient = c.transient;
    this.retryAfterMs = c.retryAfterMs;
  }
}
