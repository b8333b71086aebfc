// Telegram adapter: Bot API long polling (our small keep-alive client, telegram-api.ts) with a persisted update journal (no replays, no
// losses), duplicate and edit filtering, exponential backoff on errors, a stall watchdog that
// restarts polling, and replies sent as split Telegram HTML with a plain-text fallback.
import { emitEvent } from '../observe/index.js';
import type { TelegramSettings } from '../config/index.js';
import type { ChannelAdapter, ChannelMessage } from './types.js';
import { NotAcceptedError } from './runner.js';
import { backoffDelay, sleep } from './backoff.js';
import { parseUpdate } from './telegram-update.js';
import { TelegramJournal, type JournalState } from './telegram-offset.js';
import { renderTelegramPieces } from './telegram-format.js';
import { TelegramApiError, classifyError, createTelegramClient, grammySignal, type TelegramClient } from './telegram-api.js';

export interface TelegramDeps {
  /** Where the update journal lives (`<dataDir>/channels/telegram-offset.json`). */
  dataDir: string;
  /** No successful getUpdates for this long → polling is restarted. Default from settings. */
  stallMs?: number;
  /** First backoff step after a failed poll. Default max(poll interval, 500 ms). */
  backoffBaseMs?: number;
  /** Backoff cap. Default 60 s. */
  backoffMaxMs?: number;
  /** Received-but-unhandled updates before polling pauses. Default 256. */
  maxInflight?: number;
  random?: () => number;
}

const CHANNEL = 'telegram';
/** Bot API update ids are 32-bit integers: a getUpdates offset above this never returns a message. */
const MAX_UPDATE_OFFSET = 2 ** 31;

export class TelegramAdapter implements ChannelAdapter {
  readonly name = CHANNEL;
  private readonly settings: TelegramSettings;
  private readonly token: string;
  private readonly journal: TelegramJournal;
  private readonly stallMs: number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly maxInflight: number;
  private readonly random: () => number;
  private client: Promise<TelegramClient> | undefined;
  private ready = false;
  private botId = '';
  private state: JournalState = { offset: 0, pending: new Map() };
  private readonly inflight = new Set<Promise<void>>();
  private generation = 0;
  private lastOk = Date.now();
  private paused = false;
  private failures = 0;
  private request: AbortController | undefined;
  private restarts = 0;
  private slotFreed: (() => void) | undefined;

  constructor(settings: TelegramSettings, deps: TelegramDeps) {
    if (!settings.token) throw new Error('RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN is required when telegram channel is enabled');
    this.settings = settings;
    this.token = settings.token;
    this.journal = new TelegramJournal(deps.dataDir);
    this.stallMs = deps.stallMs ?? Math.max(settings.stallSecs, settings.pollTimeoutSecs + 1) * 1000;
    this.baseMs = deps.backoffBaseMs ?? Math.max(settings.pollIntervalMs, 500);
    this.maxMs = Math.max(deps.backoffMaxMs ?? 60_000, this.baseMs);
    this.maxInflight = deps.maxInflight ?? 256;
    this.random = deps.random ?? Math.random;
  }

  /** Polling, and with an offset Telegram can answer: a journal offset past every possible update id leaves the bot deaf. */
  isReady(): boolean {
    return this.ready && this.state.offset <= MAX_UPDATE_OFFSET;
  }

  /** Polling restarts by the stall watchdog (for metrics). */
  get stallRestarts(): number {
    return this.restarts;
  }

  private api(): Promise<TelegramClient> {
    // A request may legitimately last the whole long poll.
    this.client ??= createTelegramClient({ token: this.token, apiRoot: this.settings.apiRoot, timeoutSecs: Math.max(this.settings.requestTimeoutSecs, this.settings.pollTimeoutSecs + 5) });
    return this.client;
  }

  async run(onMessage: (msg: ChannelMessage) => Promise<void>, signal: AbortSignal): Promise<void> {
    const client = await this.api();
    // The HTTP agent stays open after run(): deferred replies may still be on their way, and
    // Node unrefs idle keep-alive sockets, so they never keep the process alive.
    try {
      const me = await this.untilOk(() => client.api.getMe(grammySignal(signal)), signal, 'getMe');
      if (!me) return;
      this.botId = String(me.id);
      this.state = this.journal.load(this.botId);
      if (this.state.offset > MAX_UPDATE_OFFSET) emitEvent('channel_deaf', { channel: CHANNEL, offset: this.state.offset, reason: 'the journal offset is past every Telegram update id: no message can arrive (not ready)' });
      await client.api.deleteWebhook(undefined, grammySignal(signal)).catch((err: unknown) => this.pollError(err));
      // Reachable with a valid token: ready now, not after the first long poll returns (which
      // may take the whole poll timeout). A failed poll clears it until one succeeds again.
      this.ready = !signal.aborted;
      this.lastOk = Date.now(); // the stall clock starts with polling, not at construction
      // Updates received by an earlier run but never handled come first.
      for (const [id, msg] of [...this.state.pending].sort(([a], [b]) => a - b)) this.dispatch(id, msg, onMessage);
      const finished = new Promise<void>((resolve, reject) => {
        const stop = (err?: unknown): void => (err === undefined ? resolve() : reject(err));
        signal.addEventListener('abort', () => stop(), { once: true });
        const watchdog = setInterval(() => this.checkStall(client, onMessage, signal, stop), Math.min(5000, Math.max(100, this.stallMs / 4)));
        watchdog.unref();
        signal.addEventListener('abort', () => clearInterval(watchdog), { once: true });
        if (signal.aborted) stop();
        else void this.pollLoop(++this.generation, client, onMessage, signal, stop);
      });
      try {
        await finished;
      } finally {
        this.ready = false;
        this.request?.abort();
        await Promise.allSettled([...this.inflight]);
        this.persist();
        await this.journal.close();
      }
    } finally {
      this.ready = false;
    }
  }

  /** Calls `fn` until it succeeds (backing off on transient errors); undefined when stopped. */
  private async untilOk<T>(fn: () => Promise<T>, signal: AbortSignal, what: string): Promise<T | undefined> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (signal.aborted) return undefined;
        const c = classifyError(err, this.token);
        if (c.fatal) throw new TelegramApiError({ ...c, message: `${what}: ${c.message} (check RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN)` });
        this.pollError(err);
        await sleep(Math.max(c.retryAfterMs ?? 0, backoffDelay(attempt, this.baseMs, this.maxMs, this.random)), signal);
      }
    }
    return undefined;
  }

  private pollError(err: unknown): void {
    emitEvent('channel_poll_error', { channel: CHANNEL, error: classifyError(err, this.token).message });
  }

  private async pollLoop(gen: number, client: TelegramClient, onMessage: (msg: ChannelMessage) => Promise<void>, signal: AbortSignal, stop: (err?: unknown) => void): Promise<void> {
    while (!signal.aborted && gen === this.generation) {
      if (this.inflight.size >= this.maxInflight) {
        // Back-pressure: a slow provider must not make us hold thousands of updates. Woken when
        // a slot frees (one promise, not a race over every in-flight update).
        this.paused = true;
        await new Promise<void>((resolve) => {
          this.slotFreed = resolve;
          const t = setTimeout(resolve, 1000);
          t.unref();
        });
        this.slotFreed = undefined;
        this.paused = false;
        this.lastOk = Date.now();
        continue;
      }
      const req = new AbortController();
      const onStop = (): void => req.abort();
      signal.addEventListener('abort', onStop, { once: true });
      this.request = req;
      let updates: unknown;
      try {
        updates = await client.api.getUpdates({ offset: this.state.offset, limit: 100, timeout: this.settings.pollTimeoutSecs, allowed_updates: ['message'] }, grammySignal(req.signal));
        if (!Array.isArray(updates)) throw new Error('getUpdates returned a non-array result');
      } catch (err) {
        if (signal.aborted || gen !== this.generation) break;
        const c = classifyError(err, this.token);
        if (c.fatal) {
          stop(new TelegramApiError({ ...c, message: `getUpdates: ${c.message} (check RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN)` }));
          return;
        }
        this.pollError(err);
        this.ready = false;
        let delay = Math.max(c.retryAfterMs ?? 0, backoffDelay(this.failures++, this.baseMs, this.maxMs, this.random));
        // 409: another poller or a webhook holds the bot; hammering it does not help.
        if (c.status === 409) delay = Math.max(delay, 35_000);
        await sleep(delay, signal);
        continue;
      } finally {
        signal.removeEventListener('abort', onStop);
      }
      this.lastOk = Date.now();
      this.failures = 0;
      this.ready = true;
      try {
        await this.accept(updates as unknown[], onMessage);
      } catch (err) {
        // The journal could not be written: nothing was dispatched; poll the same offset again.
        emitEvent('channel_poll_error', { channel: CHANNEL, error: `cannot persist the update journal: ${(err as Error).message}` });
        await sleep(backoffDelay(this.failures++, this.baseMs, this.maxMs, this.random), signal);
        continue;
      }
      if ((updates as unknown[]).length === 0 && this.settings.pollIntervalMs > 0) await sleep(this.settings.pollIntervalMs, signal);
    }
  }

  /**
   * Records a batch in the journal and waits until it is on disk (group-committed with the
   * handled records of concurrent turns), then dispatches it. The next poll, which confirms the
   * offset to Telegram, starts only after that.
   */
  private async accept(updates: unknown[], onMessage: (msg: ChannelMessage) => Promise<void>): Promise<void> {
    let offset = this.state.offset;
    const fresh: Array<[number, ChannelMessage]> = [];
    for (const raw of updates) {
      const p = parseUpdate(raw);
      if (p.kind === 'invalid') {
        emitEvent('channel_update_skipped', { channel: CHANNEL, reason: 'invalid', error: p.reason });
        continue;
      }
      if (p.updateId < offset || this.state.pending.has(p.updateId)) {
        emitEvent('channel_duplicate', { channel: CHANNEL, chat_id: p.kind === 'message' ? p.message.chatId : null, message_id: p.kind === 'message' ? (p.message.messageId ?? null) : null, update_id: p.updateId });
        continue;
      }
      offset = p.updateId + 1;
      if (p.kind === 'skip') {
        emitEvent('channel_update_skipped', { channel: CHANNEL, update_id: p.updateId, reason: p.reason });
        continue;
      }
      fresh.push([p.updateId, p.message]);
    }
    if (offset === this.state.offset && fresh.length === 0) return;
    await this.journal.received(fresh, offset);
    this.state.offset = offset;
    for (const [id, msg] of fresh) this.state.pending.set(id, msg);
    for (const [id, msg] of fresh) this.dispatch(id, msg, onMessage);
  }

  private dispatch(id: number, msg: ChannelMessage, onMessage: (msg: ChannelMessage) => Promise<void>): void {
    const done = onMessage(msg).then(
      () => this.handled(id),
      (err: unknown) => {
        // Not taken (stopping): stays in the journal for the next run. Anything else is a bug
        // in the runner; acknowledge so one bad update cannot wedge every restart.
        if (err instanceof NotAcceptedError) return;
        emitEvent('channel_dispatch_error', { channel: CHANNEL, update_id: id, error: (err as Error)?.message ?? String(err) });
        this.handled(id);
      },
    );
    this.inflight.add(done);
    void done.finally(() => {
      this.inflight.delete(done);
      if (this.inflight.size < this.maxInflight) this.slotFreed?.();
    });
  }

  private handled(id: number): void {
    this.state.pending.delete(id);
    try {
      // Not awaited: a lost "handled" line only means the update is replayed, and a replay is
      // answered from the session without a second turn (see docs/delivery.md).
      this.journal.handled(id).catch((err: unknown) => this.stateError(err));
      if (this.journal.wantsCompaction) this.journal.compact(this.state);
    } catch (err) {
      this.stateError(err);
    }
  }

  /** Folds the journal log into its snapshot (on stop). */
  private persist(): void {
    if (!this.botId) return;
    try {
      this.journal.compact(this.state);
    } catch (err) {
      this.stateError(err);
    }
  }

  private stateError(err: unknown): void {
    emitEvent('channel_state_error', { channel: CHANNEL, path: this.journal.logPath, error: (err as Error)?.message ?? String(err) });
  }

  /** Watchdog: no successful poll for stallMs → abort the current request, start a new loop. */
  private checkStall(client: TelegramClient, onMessage: (msg: ChannelMessage) => Promise<void>, signal: AbortSignal, stop: (err?: unknown) => void): void {
    if (signal.aborted) return;
    const now = Date.now();
    if (this.paused) {
      this.lastOk = now;
      return;
    }
    const silent = now - this.lastOk;
    if (silent <= this.stallMs) return;
    emitEvent('channel_poll_stall', { channel: CHANNEL, silent_ms: silent, action: 'restart_polling' });
    this.restarts++;
    this.lastOk = now;
    const gen = ++this.generation;
    this.request?.abort();
    void this.pollLoop(gen, client, onMessage, signal, stop);
  }

  async send(chatId: string, text: string): Promise<void> {
    const { api } = await this.api();
    for (const piece of renderTelegramPieces(text)) {
      await this.withRetries(async () => {
        try {
          await api.sendMessage(chatId, piece.html, { parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
        } catch (err) {
          const c = classifyError(err, this.token);
          if (!c.badMarkup) throw err;
          emitEvent('channel_format_fallback', { channel: CHANNEL, chat_id: chatId, error: c.message });
          await api.sendMessage(chatId, piece.raw);
        }
      }, chatId);
    }
  }

  async typing(chatId: string): Promise<void> {
    const { api } = await this.api();
    await api.sendChatAction(chatId, 'typing').catch(() => undefined);
  }

  /**
   * Retries a send with exponential backoff (5 attempts over ~15 s) on 5xx, on 429 beyond
   * auto-retry, on connection failures that never reached the server (refused, DNS), and on
   * failures whose fate is unknown (reset, socket hang up on a reused keep-alive socket, timeout):
   * delivery is at-least-once (docs/delivery.md), so a rare duplicate beats a lost reply. Each
   * retry is logged with its classification; 4xx answers are final.
   */
  private async withRetries(fn: () => Promise<void>, chatId: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const c = classifyError(err, this.token);
        const again = c.notSent || c.unknownFate || (c.status !== undefined && (c.status >= 500 || c.status === 429));
        if (!again || attempt >= 4) throw new TelegramApiError(c);
        emitEvent('channel_send_retry', { channel: CHANNEL, chat_id: chatId, attempt: attempt + 1, fate: c.notSent ? 'not_sent' : c.unknownFate ? 'unknown' : 'rejected', error: c.message });
        await sleep(Math.max(c.retryAfterMs ?? 0, backoffDelay(attempt, 500, 8000, this.random)));
      }
    }
  }
}

export function createTelegramAdapter(settings: TelegramSettings, deps: TelegramDeps): TelegramAdapter {
  return new TelegramAdapter(settings, deps);
}
