// A fake Telegram Bot API on 127.0.0.1 for tests: `POST /bot<token>/<method>` with JSON bodies,
// getMe, deleteWebhook, getUpdates (offsets confirm, long-poll timeout), sendMessage (recorded;
// can reject HTML), sendChatAction, and scripted failures (429 retry_after, 5xx, hangs).
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_TOKEN = '123456789:AAFakeTokenForTestsOnly_abcdefghijklmnop';

export interface SentMessage {
  chat_id: string;
  text: string;
  parse_mode?: string;
  at: number;
}

export interface Call {
  method: string;
  body: Record<string, unknown>;
  at: number;
}

/** One scripted answer for the next call of a method. */
export type Scripted =
  | { status: 429; retryAfter: number }
  | { status: number; description?: string }
  | { hang: true }
  | { raw: string }
  /** The connection is closed without an answer after the request was read ("socket hang up"); `deliver` records a sendMessage first (its fate unknown to the client). */
  | { reset: true; deliver?: boolean };

export interface FakeTelegram {
  /** API root for RUSTY_PINCH_CHANNELS_TELEGRAM_API_ROOT. */
  url: string;
  token: string;
  calls: Call[];
  sent: SentMessage[];
  actions: Array<{ chat_id: string; action: string }>;
  /** Queues a message from a user; returns its update_id. */
  message(opts: { chatId: number; text?: string; fromId?: number; username?: string; isBot?: boolean; chatType?: string; messageId?: number }): number;
  /** Queues any update object (update_id assigned when missing). */
  update(update: Record<string, unknown>): number;
  /** Puts a raw element in the next getUpdates result, whatever the offset (garbage, replays). */
  raw(value: unknown): void;
  /** The next calls of `method` get these answers, in order. */
  script(method: string, ...answers: Scripted[]): void;
  /** sendMessage with parse_mode HTML fails with 400 can't parse entities. */
  rejectHtml: boolean;
  /** Resolves when `pred` holds (checked on every call and every 20 ms). */
  waitFor(pred: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  /** Highest offset a getUpdates call has confirmed. */
  confirmed(): number;
  /** Bytes received from clients so far (benches: a client's socket writes). */
  bytesIn(): number;
  close(): Promise<void>;
}

/**
 * The variables that point `channels telegram` / `serve` at this fake: fast polling, open DMs
 * (every chat may talk). Spread into cleanEnv's extras, with a test's own on top.
 */
export function fakeTelegramEnv(fake: Pick<FakeTelegram, 'url' | 'token'>): Record<string, string> {
  return {
    RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED: 'true',
    RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN: fake.token,
    RUSTY_PINCH_CHANNELS_TELEGRAM_API_ROOT: fake.url,
    RUSTY_PINCH_CHANNELS_TELEGRAM_POLL_TIMEOUT_SECS: '1',
    RUSTY_PINCH_CHANNELS_TELEGRAM_POLL_INTERVAL_MS: '0',
    RUSTY_PINCH_CHANNELS_TELEGRAM_DM_POLICY: 'open',
  };
}

export async function startFakeTelegram(options: { token?: string } = {}): Promise<FakeTelegram> {
  const token = options.token ?? FAKE_TOKEN;
  let nextId = 1000;
  let nextMessageId = 1;
  let confirmedOffset = 0;
  const queue: unknown[] = [];
  const rawQueue: unknown[] = [];
  const scripts = new Map<string, Scripted[]>();
  const waiters = new Set<() => void>();
  const hung = new Set<ServerResponse>();
  const calls: Call[] = [];
  const sent: SentMessage[] = [];
  const actions: Array<{ chat_id: string; action: string }> = [];
  const wake = (): void => {
    for (const w of [...waiters]) w();
  };

  const reply = (res: ServerResponse, status: number, body: unknown): void => {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const ok = (res: ServerResponse, result: unknown): void => reply(res, 200, { ok: true, result });
  const fail = (res: ServerResponse, status: number, description: string, parameters?: unknown): void => reply(res, status, { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) });

  const idOf = (u: unknown): number | undefined => (u && typeof u === 'object' && typeof (u as { update_id?: unknown }).update_id === 'number' ? (u as { update_id: number }).update_id : undefined);

  function getUpdates(res: ServerResponse, body: Record<string, unknown>): void {
    const offset = typeof body.offset === 'number' ? body.offset : 0;
    if (offset > confirmedOffset) confirmedOffset = offset;
    // Confirmed updates are forgotten, as Telegram does.
    for (let i = queue.length - 1; i >= 0; i--) {
      const id = idOf(queue[i]);
      if (id !== undefined && id < offset) queue.splice(i, 1);
    }
    const limit = typeof body.limit === 'number' ? body.limit : 100;
    const take = (): unknown[] => {
      // Raw elements (garbage, re-deliveries of old ids) go out once, whatever the offset.
      const out = [...rawQueue.splice(0), ...queue.filter((u) => (idOf(u) as number) >= offset)].slice(0, limit);
      return out;
    };
    const now = take();
    const timeout = typeof body.timeout === 'number' ? body.timeout : 0;
    if (now.length > 0 || timeout <= 0) return ok(res, now);
    const done = (): void => {
      const got = take();
      if (got.length === 0) return;
      cleanup();
      ok(res, got);
    };
    const timer = setTimeout(() => {
      cleanup();
      ok(res, []);
    }, timeout * 1000);
    const cleanup = (): void => {
      clearTimeout(timer);
      waiters.delete(done);
    };
    waiters.add(done);
    // Not req 'close': Node emits it once the body is read, not when the client goes away.
    res.on('close', cleanup);
  }

  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (d: Buffer) => (data += d.toString()));
    req.on('end', () => {
      const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
      if (!m) return fail(res, 404, 'Not Found');
      if (m[1] !== token) return fail(res, 401, 'Unauthorized');
      const method = m[2] as string;
      let body: Record<string, unknown> = {};
      try {
        body = data ? (JSON.parse(data) as Record<string, unknown>) : {};
      } catch {
        return fail(res, 400, 'Bad Request: invalid JSON');
      }
      calls.push({ method, body, at: Date.now() });
      wake();
      const scripted = scripts.get(method)?.shift();
      if (scripted) {
        if ('hang' in scripted) {
          hung.add(res);
          return;
        }
        if ('reset' in scripted) {
          if (scripted.deliver && method === 'sendMessage') {
            sent.push({ chat_id: String(body.chat_id), text: String(body.text ?? ''), ...(typeof body.parse_mode === 'string' ? { parse_mode: body.parse_mode } : {}), at: Date.now() });
            wake();
          }
          res.socket?.destroy();
          return;
        }
        if ('raw' in scripted) {
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end(scripted.raw);
        }
        if (scripted.status === 429 && 'retryAfter' in scripted) return fail(res, 429, `Too Many Requests: retry after ${scripted.retryAfter}`, { retry_after: scripted.retryAfter });
        return fail(res, scripted.status, ('description' in scripted && scripted.description) || 'Internal Server Error');
      }
      switch (method) {
        case 'getMe':
          return ok(res, { id: Number(token.split(':')[0]), is_bot: true, first_name: 'Fake', username: 'fake_bot' });
        case 'deleteWebhook':
          return ok(res, true);
        case 'getUpdates':
          return getUpdates(res, body);
        case 'sendChatAction':
          actions.push({ chat_id: String(body.chat_id), action: String(body.action) });
          return ok(res, true);
        case 'sendMessage': {
          if (api.rejectHtml && body.parse_mode === 'HTML') return fail(res, 400, "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 3");
          const text = String(body.text ?? '');
          if (text.length === 0) return fail(res, 400, 'Bad Request: message text is empty');
          if (text.length > 4096) return fail(res, 400, 'Bad Request: message is too long');
          sent.push({ chat_id: String(body.chat_id), text, ...(typeof body.parse_mode === 'string' ? { parse_mode: body.parse_mode } : {}), at: Date.now() });
          wake();
          return ok(res, { message_id: nextMessageId++, date: Math.floor(Date.now() / 1000), chat: { id: Number(body.chat_id), type: 'private' }, text });
        }
        default:
          return fail(res, 404, 'Not Found: method not found');
      }
    });
  });
  const sockets = new Set<import('node:net').Socket>();
  let closedBytes = 0;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => {
      closedBytes += s.bytesRead;
      sockets.delete(s);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const api: FakeTelegram = {
    url: `http://127.0.0.1:${port}`,
    token,
    calls,
    sent,
    actions,
    rejectHtml: false,
    message(opts) {
      const fromId = opts.fromId ?? opts.chatId;
      return api.update({
        message: {
          message_id: opts.messageId ?? nextMessageId++,
          date: Math.floor(Date.now() / 1000),
          chat: { id: opts.chatId, type: opts.chatType ?? (opts.chatId < 0 ? 'group' : 'private') },
          from: { id: fromId, is_bot: opts.isBot ?? false, first_name: 'User', ...(opts.username ? { username: opts.username } : {}) },
          ...(opts.text !== undefined ? { text: opts.text } : {}),
        },
      });
    },
    update(update) {
      const id = typeof update.update_id === 'number' ? update.update_id : nextId++;
      if (id >= nextId) nextId = id + 1;
      queue.push({ update_id: id, ...update });
      wake();
      return id;
    },
    raw(value) {
      rawQueue.push(value);
      wake();
    },
    script(method, ...answers) {
      scripts.set(method, [...(scripts.get(method) ?? []), ...answers]);
    },
    waitFor(pred, timeoutMs = 10_000, what = 'condition') {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!pred()) return;
          cleanup();
          resolve();
        };
        const poll = setInterval(check, 20);
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`fake telegram: timed out waiting for ${what}; sent=${JSON.stringify(sent.map((s) => s.text.slice(0, 80)))}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearInterval(poll);
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    confirmed: () => confirmedOffset,
    bytesIn: () => closedBytes + [...sockets].reduce((n, s) => n + s.bytesRead, 0),
    async close() {
      for (const r of hung) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}
