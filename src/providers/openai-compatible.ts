// OpenAI-compatible chat completions provider (openrouter, openai, groq, compatible, vllm):
// Node's fetch, a per-request timeout, retries on transient failures with capped backoff,
// jitter and Retry-After, and error texts that name the key's variable, never the key.
import { keyVariables, type Settings } from '../config/index.js';
import { errorChain } from '../kernel/index.js';
import { emitEvent } from '../observe/index.js';
import { buildRequestBody, parseCompletion, providerErrorMessage, WireError } from './openai-wire.js';
import { isTransientStatus, nextDelayMs, parseRetryAfter, sleep } from './retry.js';
import { ProviderError, type Provider, type ProviderRequest, type ProviderResult } from './types.js';

/** A response body larger than this is refused (a chat completion is far smaller). */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface OpenAIProviderOptions {
  fetch?: typeof fetch;
  /** Jitter source (tests pass a constant). */
  random?: () => number;
}

type Attempt =
  | { ok: true; result: Omit<ProviderResult, 'attempts' | 'latencyMs'> }
  | { ok: false; transient: boolean; detail: string; retryAfterMs?: number; aborted?: boolean };

export class OpenAICompatibleProvider implements Provider {
  readonly nativeTools = true;
  readonly name: string;
  readonly model: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly settings: Settings, private readonly options: OpenAIProviderOptions = {}) {
    this.name = settings.provider;
    this.model = settings.model;
    this.fetchFn = options.fetch ?? fetch;
  }

  async complete(req: ProviderRequest): Promise<ProviderResult> {
    const s = this.settings;
    if (!s.apiKey) {
      throw new ProviderError(`missing API key for provider '${this.name}'`, 0, 0, { hint: `Set one of: ${keyVariables(this.name).join(', ')}.` });
    }
    if (!s.apiBase) {
      throw new ProviderError(`missing API base for provider '${this.name}'`, 0, 0, { hint: 'Set RUSTY_PINCH_API_BASE (e.g. http://127.0.0.1:8000/v1 for vllm or another compatible server).' });
    }
    const url = `${s.apiBase.replace(/\/+$/, '')}/chat/completions`;
    const body = JSON.stringify(buildRequestBody(this.model, req.messages, req.tools));
    const headers: Record<string, string> = { 'Content-Type': 'application/json', Authorization: `Bearer ${s.apiKey}` };
    if (this.name === 'openrouter') {
      headers['HTTP-Referer'] = 'https://rusty-pinch.local';
      headers['X-Title'] = 'Rusty Pinch';
    }
    const total = s.requestRetries + 1;
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);

    for (let i = 0; ; i++) {
      const attempt = i + 1;
      const out = await this.attempt(url, headers, body, req.signal);
      if (out.ok) return { ...out.result, attempts: attempt, latencyMs: elapsed() };
      const cls = out.transient ? 'transient' : 'permanent';
      if (!out.transient || attempt >= total || out.aborted) {
        throw new ProviderError(`provider call failed on attempt ${attempt}/${total}: ${cls} error: ${this.scrub(out.detail)}`, attempt, elapsed());
      }
      const delay = nextDelayMs({ baseMs: s.retryBackoffMs, maxBackoffMs: s.retryMaxBackoffMs }, i, out.retryAfterMs, this.options.random);
      emitEvent('provider_retry', {
        request_id: req.requestId,
        provider: this.name,
        attempt,
        total,
        delay_ms: delay,
        retry_after: out.retryAfterMs !== undefined,
        error: this.scrub(out.detail),
      });
      await sleep(delay, req.signal);
      if (req.signal?.aborted) {
        throw new ProviderError(`provider call failed on attempt ${attempt}/${total}: ${cls} error: ${this.scrub(out.detail)} (stopped: turn aborted)`, attempt, elapsed());
      }
    }
  }

  /** One HTTP exchange, never throwing: every failure is classified. */
  private async attempt(url: string, headers: Record<string, string>, body: string, outer: AbortSignal | undefined): Promise<Attempt> {
    if (outer?.aborted) return { ok: false, transient: false, detail: 'request aborted', aborted: true };
    const timeoutSecs = this.settings.requestTimeoutSecs;
    const ctrl = new AbortController();
    let timedOut = false;
    const timer = timeoutSecs > 0 ? setTimeout(() => ((timedOut = true), ctrl.abort()), timeoutSecs * 1000) : undefined;
    const onAbort = (): void => ctrl.abort();
    outer?.addEventListener('abort', onAbort, { once: true });
    try {
      let res: Response;
      let text: string;
      try {
        res = await this.fetchFn(url, { method: 'POST', headers, body, signal: ctrl.signal, redirect: 'error' });
        text = await readCapped(res, MAX_RESPONSE_BYTES);
      } catch (err) {
        if (timedOut) return { ok: false, transient: true, detail: `request timed out after ${timeoutSecs}s` };
        if (outer?.aborted) return { ok: false, transient: false, detail: 'request aborted', aborted: true };
        if (err instanceof WireError) return { ok: false, transient: err.transient, detail: err.message };
        return { ok: false, transient: true, detail: `network error: ${networkDetail(err)}` };
      }
      if (!res.ok) return this.httpFailure(res, text);
      try {
        const parsed = parseCompletion(text);
        return { ok: true, result: { content: parsed.content, toolCalls: parsed.toolCalls.length ? parsed.toolCalls : undefined, tokensUsed: parsed.tokensUsed } };
      } catch (err) {
        if (err instanceof WireError) return { ok: false, transient: err.transient, detail: err.message };
        return { ok: false, transient: false, detail: errorChain(err) };
      }
    } finally {
      if (timer) clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    }
  }

  private httpFailure(res: Response, text: string): Attempt {
    let message: string | undefined;
    try {
      message = providerErrorMessage(JSON.parse(text));
    } catch {
      const t = text.trim();
      if (t) message = t.length > 300 ? `${t.slice(0, 300)}…` : t;
    }
    const parts = [`http_status=${res.status}`];
    if (message) parts.push(`provider_error=${message}`);
    let detail = parts.join('; ');
    if (res.status === 401 || res.status === 403) {
      detail = `the API key from ${this.settings.apiKeyFrom ?? 'the environment'} was refused by ${this.name} (${detail})`;
    }
    const transient = isTransientStatus(res.status);
    const retryAfterMs = transient ? parseRetryAfter((n) => res.headers.get(n)) : undefined;
    return { ok: false, transient, detail, retryAfterMs };
  }

  /** Removes the key itself from any text (a server may echo it back). */
  private scrub(text: string): string {
    const key = this.settings.apiKey;
    return key && key.length >= 4 ? text.split(key).join('***') : text;
  }
}

/** Reads a body as UTF-8 text, refusing more than `max` bytes. */
async function readCapped(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) throw new WireError(`provider response is larger than ${max} bytes`, false);
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > max) throw new WireError(`provider response is larger than ${max} bytes`, false);
    chunks.push(chunk);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new WireError('provider returned non-utf8 response', false);
  }
}

/** `connect ECONNREFUSED 127.0.0.1:1234` rather than undici's bare `fetch failed`. */
function networkDetail(err: unknown): string {
  const cause = (err as { cause?: unknown })?.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code && !cause.message.includes(code) ? `${cause.message} (${code})` : cause.message;
  }
  return errorChain(err);
}
