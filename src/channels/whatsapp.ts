// WhatsApp bridge adapter: a websocket client (ws) that speaks both bridge dialects, reconnects
// forever with capped exponential backoff and jitter, detects dead sockets with pings, queues
// replies while disconnected, and drops duplicate inbound ids.
import type WebSocket from 'ws';
import { emitEvent } from '../observe/index.js';
import { NetworkError } from '../kernel/index.js';
import type { WhatsAppSettings } from '../config/index.js';
import type { ChannelAdapter, ChannelMessage } from './types.js';
import { BridgeParseError, encodeAuth, encodeOutbound, parseBridgeFrame, type BridgeDialect } from './whatsapp-protocol.js';
import { NotAcceptedError } from './runner.js';
import { OutboundQueue, RecentIds, backoffDelay, describeUrl, sleep } from './whatsapp-support.js';

// ws is loaded on the first connection, not at start: a Telegram-only `serve` never pays for it
// (its CommonJS load was ~15 ms of serve's time to ready, bench/serve.bench.ts).
let wsClass: typeof WebSocket | undefined;
const loadWs = async (): Promise<typeof WebSocket> => (wsClass ??= (await import('ws')).default);
/** WebSocket readyState values (the protocol's, as ws exports them). */
const CONNECTING = 0;
const OPEN = 1;

export interface WhatsAppDeps {
  /** Keepalive ping interval; a socket that misses one pong is dropped. Default 30 s. */
  pingIntervalMs?: number;
  /** Backoff cap. Default 60 s (or the base delay when that is larger). */
  maxBackoffMs?: number;
  /** Replies held while disconnected. Default 200. */
  queueLimit?: number;
  /** How long a held reply stays deliverable. Default 15 min. */
  queueTtlMs?: number;
  /** Longest wait for in-flight messages when stopping. Default 30 s. */
  drainMs?: number;
  /** Handshake timeout. Default 10 s. */
  connectTimeoutMs?: number;
  random?: () => number;
}

/** A reply could not be handed to the bridge (transient: the bridge is away). */
/** A reply that could not be handed to the bridge (always transient: the bridge may come back). */
export class WhatsAppSendError extends NetworkError {
  readonly transient = true;
  constructor(message: string) {
    super(message);
  }
}

export interface WhatsAppAdapter extends ChannelAdapter {
  /** Dialect in use: forced, detected from inbound frames, or the default guess. */
  readonly dialect: BridgeDialect;
  /** Successful connections after the first. */
  readonly reconnects: number;
  /** Replies waiting for the bridge. */
  readonly queueDepth: number;
}

const CHANNEL = 'whatsapp';

export function createWhatsAppAdapter(settings: WhatsAppSettings, deps: WhatsAppDeps = {}): WhatsAppAdapter {
  const url = settings.bridgeUrl;
  if (!url) throw new Error('RUSTY_PINCH_CHANNELS_WHATSAPP_BRIDGE_URL is required when whatsapp channel is enabled');
  const checked = describeUrl(url);
  if (!checked.ok) throw new Error(`RUSTY_PINCH_CHANNELS_WHATSAPP_BRIDGE_URL is invalid: ${checked.error}`);
  const safeUrl = checked.safe;
  const pingMs = deps.pingIntervalMs ?? 30_000;
  const baseMs = Math.max(100, settings.reconnectMs);
  const maxMs = Math.max(deps.maxBackoffMs ?? 60_000, baseMs);
  const random = deps.random ?? Math.random;
  const queue = new OutboundQueue(deps.queueLimit ?? 200, deps.queueTtlMs ?? 15 * 60_000);
  const seen = new RecentIds(1000);
  const token = settings.bridgeToken;

  let detected: BridgeDialect | undefined = settings.dialect === 'auto' ? undefined : settings.dialect;
  let socket: WebSocket | undefined;
  let ready = false;
  let connections = 0;
  const inflight = new Set<Promise<void>>();

  const dialect = (): BridgeDialect => detected ?? (token ? 'baileys' : 'original');

  function writeFrame(ws: WebSocket, data: string): Promise<void> {
    return new Promise((resolve, reject) => ws.send(data, (err) => (err ? reject(err) : resolve())));
  }

  async function flush(ws: WebSocket): Promise<void> {
    for (const expired of queue.dropExpired()) emitEvent('channel_send_error', { channel: CHANNEL, chat_id: expired.chatId, error: 'reply expired while the bridge was disconnected' });
    let item = queue.peek();
    while (item && ws === socket && ws.readyState === OPEN) {
      try {
        await writeFrame(ws, encodeOutbound(dialect(), item.chatId, item.text));
        queue.shift();
      } catch (err) {
        emitEvent('channel_send_error', { channel: CHANNEL, chat_id: item.chatId, error: `send failed, kept for the next connection: ${(err as Error).message}` });
        return;
      }
      item = queue.peek();
    }
  }

  function handleFrame(raw: WebSocket.RawData, isBinary: boolean, onMessage: (m: ChannelMessage) => Promise<void>, stopping: () => boolean): void {
    if (isBinary) return;
    let frame;
    try {
      frame = parseBridgeFrame(raw.toString());
    } catch (err) {
      emitEvent('channel_parse_error', { channel: CHANNEL, error: err instanceof BridgeParseError ? err.message : String(err) });
      return;
    }
    switch (frame.kind) {
      case 'message': {
        if (settings.dialect === 'auto' && detected !== frame.dialect) {
          detected = frame.dialect;
          emitEvent('channel_dialect', { channel: CHANNEL, dialect: detected });
        }
        const m = frame.message;
        if (m.messageId && seen.checkAndAdd(m.messageId)) {
          emitEvent('channel_duplicate', { channel: CHANNEL, chat_id: m.chatId, message_id: m.messageId, update_id: null });
          return;
        }
        if (stopping()) {
          emitEvent('channel_message_dropped', { channel: CHANNEL, chat_id: m.chatId, reason: 'stopping' });
          return;
        }
        const p = onMessage(m).catch((err) => {
          // The bridge keeps no offset: a message the runner did not take at stop is gone; say so.
          if (err instanceof NotAcceptedError) emitEvent('channel_message_dropped', { channel: CHANNEL, chat_id: m.chatId, reason: 'stopping' });
          else emitEvent('channel_handler_error', { channel: CHANNEL, error: String((err as Error)?.message ?? err) });
        });
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
        return;
      }
      case 'ignored':
        if (frame.dialect && settings.dialect === 'auto' && !detected) detected = frame.dialect;
        return;
      case 'status':
        emitEvent('channel_bridge_status', { channel: CHANNEL, status: frame.status });
        return;
      case 'qr':
        emitEvent('channel_bridge_status', { channel: CHANNEL, status: 'qr', message: 'the bridge waits for a QR scan; see the bridge console' });
        return;
      case 'error':
        emitEvent('channel_send_error', { channel: CHANNEL, error: `bridge: ${frame.error}` });
        return;
      case 'sent':
        return;
      case 'unknown':
        emitEvent('channel_parse_error', { channel: CHANNEL, error: `ignored frame of unknown type '${frame.type}'` });
        return;
    }
  }

  /** One connection: resolves with its close code once it ends (or the signal aborts). */
  function connectOnce(onMessage: (m: ChannelMessage) => Promise<void>, signal: AbortSignal, stopping: () => boolean): Promise<{ opened: boolean; code?: number; uptimeMs: number }> {
    return new Promise((resolve) => {
      let opened = false;
      let openedAt = 0;
      let alive = true;
      let pinger: NodeJS.Timeout | undefined;
      const ws = new wsClass!(url!, { handshakeTimeout: deps.connectTimeoutMs ?? 10_000, maxPayload: 4 * 1024 * 1024, perMessageDeflate: false });
      socket = ws;
      const finish = (code?: number) => {
        if (pinger) clearInterval(pinger);
        signal.removeEventListener('abort', onAbort);
        if (socket === ws) socket = undefined;
        ready = false;
        resolve({ opened, code, uptimeMs: opened ? Date.now() - openedAt : 0 });
      };
      const onAbort = () => ws.readyState === CONNECTING && ws.terminate();
      signal.addEventListener('abort', onAbort, { once: true });
      ws.on('open', () => {
        opened = true;
        openedAt = Date.now();
        if (token && settings.dialect !== 'original') ws.send(encodeAuth(token));
        ready = true;
        connections++;
        emitEvent('channel_connected', { channel: CHANNEL, bridge_url: safeUrl, dialect: detected ?? 'auto', reconnect: connections > 1 });
        pinger = setInterval(() => {
          if (!alive) {
            emitEvent('channel_read_error', { channel: CHANNEL, error: `no pong within ${pingMs} ms; dropping the connection` });
            ws.terminate();
            return;
          }
          alive = false;
          ws.ping();
        }, pingMs);
        pinger.unref();
        void flush(ws);
      });
      ws.on('pong', () => (alive = true));
      ws.on('message', (data, isBinary) => {
        alive = true;
        handleFrame(data, isBinary, onMessage, stopping);
      });
      ws.on('error', (err) => {
        const msg = redactToken(err.message, token);
        emitEvent(opened ? 'channel_read_error' : 'channel_connect_error', { channel: CHANNEL, bridge_url: safeUrl, error: msg });
      });
      ws.on('close', (code, reason) => {
        if (opened && !stopping()) {
          const why = reason.toString().slice(0, 200);
          const hint = code === 4001 || code === 4003 ? ' (the bridge refused authentication: check RUSTY_PINCH_CHANNELS_WHATSAPP_BRIDGE_TOKEN)' : '';
          emitEvent('channel_read_error', { channel: CHANNEL, error: `connection closed (code ${code}${why ? `, ${redactToken(why, token)}` : ''})${hint}` });
        }
        finish(code);
      });
    });
  }

  async function drain(stopMs: number): Promise<void> {
    const deadline = Date.now() + stopMs;
    while (inflight.size > 0 && Date.now() < deadline) {
      const timer = new AbortController();
      await Promise.race([Promise.allSettled([...inflight]), sleep(Math.max(1, deadline - Date.now()), timer.signal)]);
      timer.abort();
    }
    const ws = socket;
    if (ws && ws.readyState === OPEN) await flush(ws);
    if (queue.size > 0) emitEvent('channel_send_error', { channel: CHANNEL, error: `${queue.size} reply(ies) not delivered: bridge disconnected at stop` });
  }

  return {
    name: CHANNEL,
    get dialect() {
      return dialect();
    },
    get reconnects() {
      return Math.max(0, connections - 1);
    },
    get queueDepth() {
      return queue.size;
    },
    isReady: () => ready,

    async run(onMessage, signal) {
      let stopped = false;
      const stopping = () => stopped || signal.aborted;
      let attempt = 0;
      const closing = new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
      const loop = (async () => {
        while (!signal.aborted) {
          await loadWs();
          const r = await connectOnce(onMessage, signal, stopping);
          if (signal.aborted) break;
          if (r.opened && r.uptimeMs >= 5_000) attempt = 0;
          const slow = r.code === 4001 || r.code === 4003;
          const delay = slow ? maxMs : backoffDelay(attempt++, baseMs, maxMs, random);
          await sleep(delay, signal);
        }
      })();
      await closing;
      stopped = true;
      // Finish in-flight turns while the connection (if any) stays up, then close it.
      await drain(deps.drainMs ?? 30_000);
      socket?.close(1000, 'stopping');
      const ws = socket;
      if (ws) setTimeout(() => ws.terminate(), 1000).unref();
      await loop;
    },

    async send(chatId, text) {
      const ws = socket;
      if (ws && ready && ws.readyState === OPEN && queue.size === 0) {
        try {
          await writeFrame(ws, encodeOutbound(dialect(), chatId, text));
          return;
        } catch {
          // fall through: hold it for the next connection
        }
      }
      if (!queue.push({ chatId, text })) throw new WhatsAppSendError(`whatsapp bridge disconnected and ${queue.limit} replies already wait; reply dropped`);
      emitEvent('channel_send_queued', { channel: CHANNEL, chat_id: chatId, queue_depth: queue.size });
    },
  };
}

function redactToken(text: string, token: string | undefined): string {
  return token ? text.split(token).join('***') : text;
}
