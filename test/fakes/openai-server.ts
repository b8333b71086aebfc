// Fake OpenAI-compatible server on 127.0.0.1 for tests: each POST /v1/chat/completions takes
// the next scripted step (answer text, tool calls, an HTTP failure, raw body, hang, reset);
// every request is recorded (headers, parsed body, arrival time).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Step =
  | { kind: 'text'; text: string; usage?: Record<string, number> }
  | { kind: 'tool_calls'; calls: Array<{ id?: string; name: string; arguments: string }>; content?: string | null }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'raw'; status?: number; body: string; contentType?: string }
  | { kind: 'hang' }
  | { kind: 'held'; until: Promise<unknown>; then: Step }
  | { kind: 'reset' };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  rawBody: string;
  at: number;
}

export interface FakeOpenAI {
  /** API base to configure, e.g. `http://127.0.0.1:PORT/v1`. */
  base: string;
  port: number;
  requests: RecordedRequest[];
  /** Appends steps to the script; when it runs out, `fallback` answers. */
  script(...steps: Step[]): void;
  fallback: Step;
  close(): Promise<void>;
}

export const text = (t: string): Step => ({ kind: 'text', text: t });
export const status = (code: number, message = `injected ${code}`, headers?: Record<string, string>): Step => ({ kind: 'status', status: code, body: { error: { message, type: 'test' } }, headers });
/** Answers `then` once `until` settles (a test decides when the model's answer arrives). */
export const held = (until: Promise<unknown>, then: Step): Step => ({ kind: 'held', until, then });
export const toolCalls = (...calls: Array<{ id?: string; name: string; arguments?: string }>): Step => ({
  kind: 'tool_calls',
  calls: calls.map((c) => ({ ...c, arguments: c.arguments ?? '{}' })),
});

export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const queue: Step[] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  const fake: FakeOpenAI = {
    base: '',
    port: 0,
    requests: [],
    script: (...steps) => void queue.push(...steps),
    fallback: text('fallback answer'),
    close: async () => {
      for (const res of hanging) res.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = undefined;
      }
      fake.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, rawBody, at: Date.now() });
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
        return;
      }
      answer(queue.shift() ?? fake.fallback, res, req);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  function answer(step: Step, res: ServerResponse, req: IncomingMessage): void {
    const json = (code: number, payload: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(code, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(payload));
    };
    switch (step.kind) {
      case 'text':
        return json(200, { id: 'cmpl-1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: step.text }, finish_reason: 'stop' }], usage: step.usage ?? { total_tokens: 7 } });
      case 'tool_calls':
        return json(200, {
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: step.content ?? null, tool_calls: step.calls.map((c, i) => ({ id: c.id ?? `call_${i + 1}`, type: 'function', function: { name: c.name, arguments: c.arguments } })) },
              finish_reason: 'tool_calls',
            },
          ],
        });
      case 'status':
        return json(step.status, step.body ?? {}, step.headers);
      case 'raw':
        res.writeHead(step.status ?? 200, { 'content-type': step.contentType ?? 'application/json' }).end(step.body);
        return;
      case 'hang':
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'held':
        void step.until.then(() => answer(step.then, res, req));
        return;
    }
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  fake.port = (server.address() as AddressInfo).port;
  fake.base = `http://127.0.0.1:${fake.port}/v1`;
  return fake;
}
