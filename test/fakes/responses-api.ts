// A loopback OpenAI Responses API (POST /v1/responses, server-sent events) for driving the REAL
// Codex CLI in tests. Each request is answered by the current `mode`: a text reply, 401, a
// ChatGPT usage limit, an API quota error, 429 (rate limit), 5xx, or a hang (no bytes until the
// client gives up). WebSocket upgrades are refused so the CLI falls back to HTTPS at once.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeMode =
  | { kind: 'text'; text: string; usage?: { input: number; cached: number; output: number; reasoning: number }; rateLimits?: { primaryUsedPercent: number; secondaryUsedPercent: number; resetsAt: number } }
  | { kind: 'unauthorized' }
  | { kind: 'usage-limit'; resetsAt: number }
  | { kind: 'quota' }
  | { kind: 'rate-limit' }
  | { kind: 'hang' };

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

export async function startFakeResponsesApi(initial: FakeMode = { kind: 'text', text: 'hello from the fake' }): Promise<FakeResponsesApi> {
  const requests: SeenRequest[] = [];
  const waiters: Array<(r: SeenRequest) => void> = [];
  const hung = new Set<ServerResponse>();
  let seq = 0;
  const api = {} as FakeResponsesApi;
  api.mode = initial;
  api.requests = requests;

  const answer = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const seen: SeenRequest = { method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body };
    if (req.method === 'POST' && /\/responses$/.test(req.url ?? '')) {
      requests.push(seen);
      for (const w of waiters.splice(0)) w(seen);
    }
    const m = api.mode;
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
      case 'text': {
        const id = `resp_${++seq}`;
        const u = m.usage ?? { input: 12, cached: 0, output: 5, reasoning: 0 };
        const rl = m.rateLimits;
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
          { type: 'response.output_item.done', item: { type: 'message', role: 'assistant', id: `msg_${seq}`, content: [{ type: 'output_text', text: m.text }] } },
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
