// A loopback OpenAI Responses API (POST /v1/responses, server-sent events) for driving the REAL
// Codex CLI in tests. Each request is answered by the current `mode`: a text reply, 401, a
// ChatGPT usage limit, an API quota error, 429 (rate limit), 5xx, or a hang (no bytes until the
// client gives up), or a scripted sequence of text replies (one per request). WebSocket
// upgrades are refused so the CLI falls back to HTTPS at once.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeMode =
  | { kind: 'text'; text: string; usage?: { input: number; cached: number; output: number; reasoning: number }; rateLimits?: { primaryUsedPercent: number; secondaryUsedPercent: number; resetsAt: number } }
  | { kind: 'unauthorized' }
  | { kind: 'usage-limit'; resetsAt: number }
  | { kind: 'quota' }
  | { kind: 'rate-limit' }
  | { kind: 'hang' }
  /** Request n (counted from when this mode was set) gets texts[n]; the last one repeats. */
  | { kind: 'sequence'; texts: string[] };

export interface SeenRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

export interface FakeResponsesApi {
  /** `http://127.0.0.1:<port>/v1` */
  baseUrl: string;
  mode: FakeMode;
  /** What the ChatGPT backend's usage endpoint (`/backend-api/wham/usage`) reports. */
  chatgptUsage: { primaryUsedPercent: number; secondaryUsedPercent: number; resetsAt: number };
  /** Requests to `/wham/usage` so far (the CLI's app-server asks it for `account/rateLimits/read`). */
  usageReads: number;
  requests: SeenRequest[];
  /** Resolves when a POST to /responses has arrived (counting from when called). */
  nextRequest(): Promise<SeenRequest>;
  close(): Promise<void>;
}

function sse(res: ServerResponse, events: Array<Record<string, unknown>>, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
  for (const e of events) res.write(`event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`);
  res.end();
}

function jsonError(res: ServerResponse, status: number, error: Record<string, unknown>, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error }));
}

/**
 * A ChatGPT login (auth.json) whose tokens are unsigned JWTs with far-future expiry, as the CLI
 * parses them: plan, account id and email. Only good against this fake.
 */
export function fakeChatgptAuth(accountId = 'acc-test'): Record<string, unknown> {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = { email: 'operator@example.test', exp: 4_102_444_800, 'https://api.openai.com/auth': { chatgpt_plan_type: 'plus', chatgpt_account_id: accountId, chatgpt_user_id: 'user-1', user_id: 'user-1' } };
  const jwt = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.sig`;
  return { auth_mode: 'chatgpt', OPENAI_API_KEY: null, tokens: { id_token: jwt, access_token: jwt, refresh_token: `rt-${accountId}`, account_id: accountId }, last_refresh: new Date().toISOString() };
}

export async function startFakeResponsesApi(initial: FakeMode = { kind: 'text', text: 'hello from the fake' }): Promise<FakeResponsesApi> {
  const requests: SeenRequest[] = [];
  const waiters: Array<(r: SeenRequest) => void> = [];
  const hung = new Set<ServerResponse>();
  let seq = 0;
  const sequenceSeen = new WeakMap<FakeMode, number>();
  const api = {} as FakeResponsesApi;
  api.mode = initial;
  api.requests = requests;
  api.chatgptUsage = { primaryUsedPercent: 10, secondaryUsedPercent: 5, resetsAt: Math.floor(Date.now() / 1000) + 3600 };
  api.usageReads = 0;

  const answer = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const seen: SeenRequest = { method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body };
    if (req.method === 'POST' && /\/responses$/.test(req.url ?? '')) {
      requests.push(seen);
      for (const w of waiters.splice(0)) w(seen);
    }
    const m = api.mode;
    if (req.method === 'GET' && /\/wham\/usage(?:\?|$)/.test(req.url ?? '')) {
      api.usageReads++;
      const u = api.chatgptUsage;
      const after = Math.max(0, u.resetsAt - Math.floor(Date.now() / 1000));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ plan_type: 'plus', rate_limit: { allowed: true, limit_reached: false, primary_window: { used_percent: u.primaryUsedPercent, limit_window_seconds: 18000, reset_after_seconds: after, reset_at: u.resetsAt }, secondary_window: { used_percent: u.secondaryUsedPercent, limit_window_seconds: 604800, reset_after_seconds: after + 3600, reset_at: u.resetsAt + 3600 } } }));
      return;
    }
    if (req.method !== 'POST' || !/\/responses$/.test(req.url ?? '')) {
      // /models and anything else: nothing to list (the CLI copes).
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"not found"}}');
      return;
    }
    switch (m.kind) {
      case 'unauthorized':
        return jsonError(res, 401, { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' });
      case 'usage-limit':
        return jsonError(res, 429, { type: 'usage_limit_reached', message: 'The usage limit has been reached', plan_type: 'plus', resets_at: m.resetsAt });
      case 'quota':
        return jsonError(res, 429, { type: 'insufficient_quota', code: 'insufficient_quota', message: 'You exceeded your current quota, please check your plan and billing details.' });
      case 'rate-limit':
        return jsonError(res, 429, { type: 'rate_limit_exceeded', message: 'Rate limit reached' }, { 'retry-after': '0' });
      case 'hang':
        hung.add(res);
        res.on('close', () => hung.delete(res));
        return;
      case 'sequence':
      case 'text': {
        const text = m.kind === 'text' ? m.text : (m.texts[Math.min(sequenceSeen.get(m) ?? 0, m.texts.length - 1)] ?? '');
        if (m.kind === 'sequence') sequenceSeen.set(m, (sequenceSeen.get(m) ?? 0) + 1);
        const id = `resp_${++seq}`;
        const u = (m.kind === 'text' && m.usage) || { input: 12, cached: 0, output: 5, reasoning: 0 };
        const rl = m.kind === 'text' ? m.rateLimits : undefined;
        // The backend's quota headers (ChatGPT plans): the CLI records them in its rollout file.
        const headers: Record<string, string> = rl
          ? {
              'x-codex-primary-used-percent': String(rl.primaryUsedPercent),
              'x-codex-primary-window-minutes': '300',
              'x-codex-primary-reset-at': String(rl.resetsAt),
              'x-codex-secondary-used-percent': String(rl.secondaryUsedPercent),
              'x-codex-secondary-window-minutes': '10080',
              'x-codex-secondary-reset-at': String(rl.resetsAt),
            }
          : {};
        return sse(res, [
          { type: 'response.created', response: { id } },
          { type: 'response.output_item.done', item: { type: 'message', role: 'assistant', id: `msg_${seq}`, content: [{ type: 'output_text', text }] } },
          {
            type: 'response.completed',
            response: { id, usage: { input_tokens: u.input, input_tokens_details: { cached_tokens: u.cached }, output_tokens: u.output, output_tokens_details: { reasoning_tokens: u.reasoning }, total_tokens: u.input + u.output } },
          },
        ], headers);
      }
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => answer(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  // A WebSocket upgrade gets a plain refusal: the CLI then uses HTTPS streaming.
  server.on('upgrade', (_req, socket) => {
    socket.end('HTTP/1.1 426 Upgrade Required\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  api.baseUrl = `http://127.0.0.1:${port}/v1`;
  api.nextRequest = () => new Promise((resolve) => waiters.push(resolve));
  api.close = async () => {
    for (const r of hung) r.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return api;
}
