// The shared channel runner: takes normalised messages from an adapter, drops duplicates, asks
// AccessControl who may talk, runs turns through an injected handler in arrival order per chat
// (the bound on turns running at once is the runtime's, the one door's), shows typing, sends replies or a friendly failure notice, counts
// `--max-messages`, and stops gracefully (stop polling, finish in-flight turns, bounded wait).
import { emitEvent } from '../observe/index.js';
import type { ChannelAdapter, ChannelMessage } from './types.js';
import type { AccessControl } from './access.js';
import { AppError, FRIENDLY_FAILURE, KeyedQueue, RecentKeys } from '../kernel/index.js';

export interface TurnInput {
  sessionId: string;
  text: string;
  channel: string;
  chatId: string;
  senderId: string;
  /** Aborted when a stop has waited too long for the turn (or on a second signal). */
  signal: AbortSignal;
}

export interface TurnResult {
  status: 'ok' | 'error';
  /** The answer (ok) or the internal error text (error: logged, never sent to the chat). */
  text: string;
  /** The answer arrives later through ChannelRunner.deliver(). */
  deferred?: boolean;
}

export type TurnHandler = (input: TurnInput) => Promise<TurnResult>;

export type StopReason = 'signal' | 'max_messages' | 'error';

/** Rejection of a message the runner did not take (stopping): the adapter must not acknowledge it. */
export class NotAcceptedError extends AppError {
  constructor() {
    super('not_accepted', 'channel is stopping; message left for the next run');
  }
}

/** What a chat user sees when a turn fails (the kernel's one text); the detail stays in the event log. */
export { FRIENDLY_FAILURE };

export interface RunnerOptions {
  adapter: ChannelAdapter;
  access: AccessControl;
  handle: TurnHandler;
  /** Stop after this many turns (allowed messages with text), like the original's flag. */
  maxMessages?: number;
  /** How long a stop waits for in-flight turns before aborting them. Default 25 s. */
  drainMs?: number;
  /** Typing indicator refresh. Default 4 s; stops after typingMaxMs (default 5 min). */
  typingIntervalMs?: number;
  typingMaxMs?: number;
}

export interface RunnerStats {
  messagesIn: number;
  messagesOut: number;
  refused: number;
  duplicates: number;
  sendErrors: number;
  turns: number;
  queueDepth: number;
  activeTurns: number;
}

export class ChannelRunner {
  readonly channel: string;
  private readonly adapter: ChannelAdapter;
  private readonly access: AccessControl;
  private readonly handle: TurnHandler;
  private readonly maxMessages: number | undefined;
  private readonly drainMs: number;
  private readonly typingIntervalMs: number;
  private readonly typingMaxMs: number;
  private readonly queue: KeyedQueue;
  private readonly recent = new RecentKeys(4096);
  private readonly stopCtl = new AbortController();
  private readonly turnCtl = new AbortController();
  private stopping = false;
  private reason: StopReason = 'signal';
  private drainTimer: NodeJS.Timeout | undefined;
  private stoppedAt: Promise<void> | undefined;
  private readonly counts = { messagesIn: 0, messagesOut: 0, refused: 0, duplicates: 0, sendErrors: 0, turns: 0 };

  constructor(options: RunnerOptions) {
    this.adapter = options.adapter;
    this.channel = options.adapter.name;
    this.access = options.access;
    this.handle = options.handle;
    this.maxMessages = options.maxMessages;
    this.drainMs = options.drainMs ?? 25_000;
    this.typingIntervalMs = options.typingIntervalMs ?? 4000;
    this.typingMaxMs = options.typingMaxMs ?? 5 * 60_000;
    // Per-chat order only: the one bound on concurrent turns is the runtime's.
    this.queue = new KeyedQueue(Number.POSITIVE_INFINITY);
  }

  get stats(): RunnerStats {
    return { ...this.counts, queueDepth: this.queue.depth, activeTurns: this.queue.active };
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /**
   * Runs the adapter until `signal` aborts or `maxMessages` turns were taken, then waits for
   * in-flight turns (bounded by drainMs, then they are aborted) and logs `channel_stop`.
   * Rejects when the adapter fails for good (bad token…), after stopping the same way.
   */
  async run(signal: AbortSignal): Promise<{ reason: StopReason; turns: number }> {
    const onAbort = (): void => this.stop('signal');
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    let failure: unknown;
    try {
      const running = this.adapter.run((msg) => this.onMessage(msg), this.stopCtl.signal);
      // Once stopping, never wait longer than the drain allows (a turn that ignores its abort).
      await Promise.race([running, this.stopDeadline()]);
    } catch (err) {
      failure = err;
      this.stop('error');
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    await Promise.race([this.queue.idle(), this.stopDeadline()]);
    clearTimeout(this.drainTimer);
    emitEvent('channel_stop', { channel: this.channel, reason: this.reason });
    if (failure !== undefined) throw failure;
    return { reason: this.reason, turns: this.counts.turns };
  }

  /** Starts a graceful stop: polling ends, queued-but-unstarted messages stay unacknowledged. */
  stop(reason: StopReason = 'signal'): void {
    if (this.stopping) return;
    this.stopping = true;
    this.reason = reason;
    this.stopCtl.abort();
    // Not unref'd: a turn waiting only for this abort must still be woken.
    this.drainTimer = setTimeout(() => this.turnCtl.abort(), this.drainMs);
  }

  /** Aborts in-flight turns now (a second Ctrl-C). */
  abortTurns(): void {
    this.stop('signal');
    this.turnCtl.abort();
  }

  /**
   * Sends a message delivered after its turn (the outbox drainer's road into this channel), in
   * order with that chat's replies. Rejects when the send failed, so the outbox retries it.
   */
  deliver(chatId: string, text: string): Promise<void> {
    return this.queue.run(chatId, () => this.send(chatId, text && text.trim() ? text : '(empty response)', true));
  }

  /** Resolves drainMs (+ a short grace for aborted turns to unwind) after the stop began. */
  private stopDeadline(): Promise<void> {
    if (this.stoppedAt) return this.stoppedAt;
    this.stoppedAt = new Promise<void>((resolve) => {
      // unref: a finished run must not keep the process alive until the deadline.
      const wait = (): void => void setTimeout(resolve, this.drainMs + 5000).unref();
      if (this.stopCtl.signal.aborted) wait();
      else this.stopCtl.signal.addEventListener('abort', wait, { once: true });
    });
    return this.stoppedAt;
  }

  private onMessage(msg: ChannelMessage): Promise<void> {
    if (this.stopping) return Promise.reject(new NotAcceptedError());
    this.counts.messagesIn++;
    if (msg.messageId !== undefined && this.recent.checkAndAdd(`${msg.chatId}\u0000${msg.messageId}`)) {
      this.counts.duplicates++;
      emitEvent('channel_duplicate', { channel: this.channel, chat_id: msg.chatId, message_id: msg.messageId, update_id: null });
      return Promise.resolve();
    }
    // Queued now, synchronously, so one chat's messages keep their arrival order.
    return this.queue.run(msg.chatId, () => this.process(msg));
  }

  private async process(msg: ChannelMessage): Promise<void> {
    if (this.stopping) throw new NotAcceptedError();
    let decision;
    try {
      decision = await this.access.check(msg);
    } catch (err) {
      emitEvent('channel_access_error', { channel: this.channel, chat_id: msg.chatId, sender: msg.senderId, error: (err as Error).message });
      await this.send(msg.chatId, FRIENDLY_FAILURE);
      return;
    }
    const detail = decision.decision === 'allow' ? { via: decision.via } : decision.decision === 'refuse' ? { reason: decision.reason } : { status: decision.status };
    emitEvent('channel_access', { channel: this.channel, chat_id: msg.chatId, decision: decision.decision, sender: msg.senderId, ...detail, notified: decision.decision === 'allow' ? undefined : decision.reply !== undefined });
    if (decision.decision !== 'allow') {
      this.counts.refused++;
      if (decision.reply) await this.send(msg.chatId, decision.reply);
      return;
    }
    if (this.stopping || (this.maxMessages !== undefined && this.counts.turns >= this.maxMessages)) throw new NotAcceptedError();
    this.counts.turns++;
    if (this.maxMessages !== undefined && this.counts.turns >= this.maxMessages) this.stop('max_messages');
    await this.turn(msg);
  }

  private async turn(msg: ChannelMessage): Promise<void> {
    const sessionId = `${this.channel}:${msg.chatId}`;
    const stopTyping = this.startTyping(msg.chatId);
    let result: TurnResult;
    try {
      result = await this.handle({ sessionId, text: msg.text, channel: this.channel, chatId: msg.chatId, senderId: msg.senderId, signal: this.turnCtl.signal });
    } catch (err) {
      result = { status: 'error', text: (err as Error)?.message ?? String(err) };
    } finally {
      stopTyping();
    }
    if (result.status === 'error') {
      // The turn event already carries the detail; this ties it to the chat.
      emitEvent('channel_turn_error', { channel: this.channel, chat_id: msg.chatId, session_id: sessionId });
      await this.send(msg.chatId, FRIENDLY_FAILURE);
      return;
    }
    await this.send(msg.chatId, result.text.trim() ? result.text : '(empty response)');
  }

  private startTyping(chatId: string): () => void {
    const typing = this.adapter.typing?.bind(this.adapter);
    if (!typing) return () => undefined;
    const fire = (): void => void typing(chatId).catch(() => undefined);
    fire();
    const started = Date.now();
    const timer = setInterval(() => {
      if (Date.now() - started > this.typingMaxMs) clearInterval(timer);
      else fire();
    }, this.typingIntervalMs);
    timer.unref?.();
    return () => clearInterval(timer);
  }

  /** Sends, logging a failure; a turn's reply counts as handled either way (rethrow: for deliver). */
  private async send(chatId: string, text: string, rethrow = false): Promise<void> {
    try {
      await this.adapter.send(chatId, text);
      this.counts.messagesOut++;
    } catch (err) {
      this.counts.sendErrors++;
      emitEvent('channel_send_error', { channel: this.channel, chat_id: chatId, error: (err as Error)?.message ?? String(err) });
      if (rethrow) throw err;
    }
  }
}
