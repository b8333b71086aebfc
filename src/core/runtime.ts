// Runtime.handle(): the one turn pipeline every entry point uses. Per-session order, bounded
// cross-session concurrency, user message persisted before the provider is called, exactly one
// `event=turn` line and one telemetry record per turn.
import { AppError, TurnError, ValidationError, errorChain, KeyedQueue } from '../kernel/index.js';
import { nextRequestId } from './ids.js';
import { rfc3339Now } from '../kernel/index.js';
import { MessageBus } from './bus.js';
import { PromptBuilder } from './prompt.js';
import { runAgent } from './agent.js';
import { emitEvent } from '../observe/index.js';
import { codePoints, parseToolInvocation, refuseRiskyGate, type ApprovalGate, type ToolContext, type ToolRegistry } from '../tools/index.js';
import { validateSessionId, type SessionRecord, type SessionStore, type Telemetry } from '../store/index.js';
import { ProviderError, type ChatMessage, type Provider } from '../providers/index.js';
import type { Settings } from '../config/index.js';
import type { DeferredReply, InboundMessage, Reply, TurnPath, TurnRecord } from '../kernel/index.js';

export interface RuntimeDeps {
  settings: Settings;
  sessions: SessionStore;
  telemetry: Telemetry;
  tools: ToolRegistry;
  provider: Provider;
  approvals?: ApprovalGate;
  /** Installed skill names for the prompt's capabilities (re-read each turn). */
  skillNames?: () => string[];
}

type TurnOutcome = Omit<TurnRecord, 'timestamp' | 'request_id' | 'session_id' | 'provider' | 'model'>;

export class Runtime {
  readonly settings: Settings;
  readonly sessions: SessionStore;
  readonly telemetry: Telemetry;
  readonly tools: ToolRegistry;
  readonly provider: Provider;
  readonly prompt = new PromptBuilder();
  readonly bus: MessageBus;
  readonly queue: KeyedQueue;
  approvals: ApprovalGate;
  private readonly skillNames: (() => string[]) | undefined;
  private readonly deferredListeners = new Set<(reply: DeferredReply) => void>();
  private readonly turnListeners = new Set<(record: TurnRecord) => void>();
  private reported = { published: 0, consumed: 0, dropped: 0, hits: 0, misses: 0 };

  constructor(deps: RuntimeDeps) {
    this.settings = deps.settings;
    this.sessions = deps.sessions;
    this.telemetry = deps.telemetry;
    this.tools = deps.tools;
    this.provider = deps.provider;
    this.approvals = deps.approvals ?? refuseRiskyGate;
    this.skillNames = deps.skillNames;
    this.bus = new MessageBus(deps.settings.busCapacity, deps.settings.busOverflow);
    this.queue = new KeyedQueue(deps.settings.maxConcurrentTurns);
  }

  /** Runs one turn. Never throws: failures come back as a Reply with status `error`. */
  handle(msg: InboundMessage): Promise<Reply> {
    const requestId = nextRequestId();
    try {
      validateSessionId(msg.sessionId);
    } catch (err) {
      return Promise.resolve(this.fail(requestId, msg.sessionId, 'provider', err, { attempts: null, latency_ms: null, user_chars: codePoints(msg.text) }));
    }
    return this.queue.run(msg.sessionId, () => this.turn(requestId, msg));
  }

  /** Like handle(), but throws a TurnError on failure (CLI convenience). */
  async handleOrThrow(msg: InboundMessage): Promise<Reply> {
    const reply = await this.handle(msg);
    if (reply.status === 'error') throw new TurnError(reply.requestId, reply.error ?? reply.text);
    return reply;
  }

  /** Subscribes to answers that arrive after their turn (queued Codex tasks). */
  onDeferredReply(fn: (reply: DeferredReply) => void): () => void {
    this.deferredListeners.add(fn);
    return () => this.deferredListeners.delete(fn);
  }

  /** Subscribes to every turn record (metrics). */
  onTurn(fn: (record: TurnRecord) => void): () => void {
    this.turnListeners.add(fn);
    return () => this.turnListeners.delete(fn);
  }

  /** Delivers a late answer: persisted to the session, then handed to the channels. */
  async completeDeferred(reply: DeferredReply): Promise<void> {
    await this.sessions.append(reply.sessionId, { role: 'assistant', content: reply.text, timestamp: rfc3339Now(), request_id: reply.requestId, deferred: true });
    this.bus.publish('out', reply.text);
    emitEvent('deferred_reply', { request_id: reply.requestId, session_id: reply.sessionId, channel: reply.channel ?? null, response_chars: codePoints(reply.text) });
    for (const fn of this.deferredListeners) fn(reply);
  }

  /** Emits the `event=turn` line and counts the turn. Used by every path (and `skills run`). */
  recordTurn(requestId: string, sessionId: string, outcome: TurnOutcome): TurnRecord {
    const record: TurnRecord = {
      timestamp: rfc3339Now(),
      request_id: requestId,
      session_id: sessionId,
      path: outcome.path,
      status: outcome.status,
      provider: this.settings.provider,
      model: this.settings.model,
      tool_name: outcome.tool_name,
      attempts: outcome.attempts,
      latency_ms: outcome.latency_ms,
      user_chars: outcome.user_chars,
      response_chars: outcome.response_chars,
      error: outcome.error,
    };
    // Keys sorted, as the original's json! macro printed them.
    emitEvent('turn', Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1))));
    this.telemetry.record(record);
    this.reportCounters();
    for (const fn of this.turnListeners) fn(record);
    return record;
  }

  /** Hands this process's bus and prompt-cache counters to telemetry (as deltas). */
  private reportCounters(): void {
    const b = this.bus.counters;
    const r = this.reported;
    this.telemetry.addCounters('bus', { published: b.published - r.published, consumed: b.consumed - r.consumed, dropped: b.dropped - r.dropped }, { depth: b.depth });
    this.telemetry.addCounters('prompt_cache', { hits: this.prompt.hits - r.hits, misses: this.prompt.misses - r.misses });
    this.reported = { published: b.published, consumed: b.consumed, dropped: b.dropped, hits: this.prompt.hits, misses: this.prompt.misses };
  }

  /** Waits for queued turns and writes telemetry. Call before the process exits. */
  async close(): Promise<void> {
    await this.queue.idle();
    await this.sessions.close().catch((err) => emitEvent('session_error', { message: errorChain(err) }));
    await this.telemetry.flush().catch((err) => emitEvent('telemetry_error', { message: errorChain(err) }));
  }

  toolContext(requestId: string, sessionId: string, source: 'user' | 'assistant', signal?: AbortSignal): ToolContext {
    return {
      sessionId,
      requestId,
      settings: this.settings,
      source,
      signal,
      sessionTail: async (count) => ({ messages: this.sessions.tail(sessionId, count), total: this.sessions.count(sessionId) }),
    };
  }

  private async turn(requestId: string, msg: InboundMessage): Promise<Reply> {
    let resumed: SessionRecord | undefined;
    let recent: SessionRecord[] | undefined;
    if (msg.messageId !== undefined) {
      // A replay (the channel re-delivered a message after a crash): never store it twice. The
      // records read here also serve as the history window (one read per turn).
      try {
        recent = this.sessions.tail(msg.sessionId, this.recentWindow());
      } catch {
        recent = undefined; // unreadable session: the turn below reports it
      }
      const found = recent && findMessage(recent, msg.messageId);
      if (found) {
        const original = typeof found.user.request_id === 'string' ? found.user.request_id : requestId;
        const answer = found.after.find((r) => r.role === 'assistant' && r.kind === undefined && r.request_id === original);
        emitEvent('turn_replay', { request_id: original, session_id: msg.sessionId, message_id: msg.messageId, action: answer ? 'resend_stored_answer' : 'resume_turn' });
        if (answer) return { requestId: original, sessionId: msg.sessionId, status: 'ok', text: answer.content, path: found.user.content.startsWith('/tool') ? 'tool' : 'provider' };
        resumed = found.user;
        requestId = original;
      }
    }
    const inv = parseToolInvocation(msg.text);
    if (inv) return this.toolTurn(requestId, msg, inv.name, inv.args);
    return this.providerTurn(requestId, msg, resumed, recent);
  }

  /** Records read for the replay check: enough to serve the history window too. */
  private recentWindow(): number {
    return Math.max(32, this.settings.historyWindow * 2 + 8);
  }

  private async toolTurn(requestId: string, msg: InboundMessage, name: string, args: string): Promise<Reply> {
    const command = args ? `/tool ${name} ${args}` : `/tool ${name}`;
    const base = { attempts: null, latency_ms: null, user_chars: codePoints(command), tool_name: name || null };
    if (!name) return this.fail(requestId, msg.sessionId, 'tool', new ValidationError('tool command missing name. usage: /tool <name> [args]'), base);
    try {
      const output = await this.tools.execute(name, args, this.toolContext(requestId, msg.sessionId, 'user', msg.signal));
      const response = `[tool:${name}]\n${output}`;
      const ts = rfc3339Now();
      await this.sessions.append(msg.sessionId, { role: 'user', content: command, timestamp: ts, ...idFields(requestId, msg) }, { role: 'assistant', content: response, timestamp: rfc3339Now(), request_id: requestId });
      this.bus.publish('tool', `${name}:${args}`);
      this.bus.publish('tool_out', `${name}:${output}`);
      this.recordTurn(requestId, msg.sessionId, { ...base, path: 'tool', status: 'ok', response_chars: codePoints(response), error: null });
      return { requestId, sessionId: msg.sessionId, status: 'ok', text: response, path: 'tool' };
    } catch (err) {
      // As the original: a refused or failed tool command leaves nothing in the session.
      return this.fail(requestId, msg.sessionId, 'tool', err, base);
    }
  }

  /** `resumed`: the user record of this message, stored by a run that crashed before answering. */
  private async providerTurn(requestId: string, msg: InboundMessage, resumed?: SessionRecord, recent?: SessionRecord[]): Promise<Reply> {
    const userChars = codePoints(msg.text);
    let history: SessionRecord[];
    let historyTotal: number;
    let userSynced: Promise<void>;
    try {
      history = this.historyWindow(msg.sessionId, recent);
      historyTotal = this.sessions.count(msg.sessionId);
      if (resumed) {
        // Its user line (and any tool records of the interrupted attempt) is already stored.
        history = history.filter((r) => r !== resumed && r.request_id !== requestId);
        historyTotal = Math.max(0, historyTotal - 1);
        userSynced = Promise.resolve();
      } else {
        // Persist the user's message first: a failing provider must not lose it. The disk flush
        // overlaps the provider call and is awaited before the turn ends.
        userSynced = this.sessions.appendDeferred(msg.sessionId, { role: 'user', content: msg.text, timestamp: rfc3339Now(), ...idFields(requestId, msg) });
      }
      userSynced.catch(() => undefined); // awaited below; never an unhandled rejection
    } catch (err) {
      const e = err instanceof ValidationError ? err : new AppError('session', `failed loading session history: ${errorChain(err)}`, { cause: err });
      return this.fail(requestId, msg.sessionId, 'provider', e, { attempts: 0, latency_ms: null, user_chars: userChars, tool_name: null });
    }
    this.bus.publish('in', msg.text);
    const messages: ChatMessage[] = [{ role: 'system', content: this.systemPrompt() }, ...replayable(history), { role: 'user', content: msg.text }];
    try {
      const result = await runAgent({
        provider: this.provider,
        tools: this.tools,
        approvals: this.approvals,
        request: {
          requestId,
          sessionId: msg.sessionId,
          messages,
          purpose: `provider_turn:${msg.sessionId}`,
          historyTotal,
          origin: { channel: msg.channel, chatId: msg.chatId },
          signal: msg.signal,
        },
        toolContext: this.toolContext(requestId, msg.sessionId, 'assistant', msg.signal),
        persist: (records) => this.sessions.append(msg.sessionId, ...records),
      });
      if (!result.queued) await this.sessions.append(msg.sessionId, { role: 'assistant', content: result.content, timestamp: rfc3339Now(), request_id: requestId });
      await userSynced;
      this.bus.publish('out', result.content);
      this.recordTurn(requestId, msg.sessionId, {
        path: 'provider',
        status: 'ok',
        tool_name: result.toolNames.length ? result.toolNames.join(',') : null,
        attempts: result.attempts,
        latency_ms: result.queued ? null : result.latencyMs,
        user_chars: userChars,
        response_chars: codePoints(result.content),
        error: null,
      });
      return { requestId, sessionId: msg.sessionId, status: 'ok', text: result.content, path: 'provider', deferred: result.queued ? true : undefined };
    } catch (err) {
      await userSynced.catch(() => undefined);
      const attempts = err instanceof ProviderError ? err.attempts : 0;
      const latency = err instanceof ProviderError ? err.latencyMs : null;
      return this.fail(requestId, msg.sessionId, 'provider', err, { attempts, latency_ms: latency, user_chars: userChars, tool_name: null });
    }
  }

  /**
   * The last `historyWindow` plain messages. Tool exchange records stay in the log but are not
   * replayed, so when some are in the way a larger tail is read (rarely needed).
   */
  private historyWindow(sessionId: string, recent?: SessionRecord[]): SessionRecord[] {
    const want = this.settings.historyWindow;
    if (want === 0) return [];
    if (recent) {
      const plain = replayableRecords(recent);
      // The whole session was read, or enough plain messages: no second read.
      if (recent.length < this.recentWindow() || plain.length >= want) return plain.slice(-want);
    }
    let read = want;
    for (;;) {
      const raw = this.sessions.tail(sessionId, read);
      const plain = replayableRecords(raw);
      if (plain.length >= want || raw.length < read || read >= want * 8) return plain.slice(-want);
      read *= 2;
    }
  }

  private systemPrompt(): string {
    let skills: string[] | { error: string } = [];
    try {
      skills = this.skillNames ? this.skillNames() : [];
    } catch (err) {
      skills = { error: errorChain(err) };
    }
    return this.prompt.build({ provider: this.settings.provider, model: this.settings.model, tools: this.tools.list(), skills, nativeTools: this.provider.nativeTools });
  }

  private fail(requestId: string, sessionId: string, path: TurnPath, err: unknown, base: { attempts: number | null; latency_ms: number | null; user_chars: number; tool_name?: string | null }): Reply {
    let message = errorChain(err);
    if (err instanceof ProviderError) message = `${message} (attempts=${err.attempts}, latency_ms=${err.latencyMs})`;
    this.recordTurn(requestId, sessionId, { path, status: 'error', tool_name: base.tool_name ?? null, attempts: base.attempts, latency_ms: base.latency_ms, user_chars: base.user_chars, response_chars: 0, error: message });
    const hint = err instanceof AppError ? err.hint : undefined;
    return { requestId, sessionId, status: 'error', text: `request_id=${requestId}: ${message}`, path, error: message, ...(hint ? { hint } : {}) };
  }
}

/** Plain user/assistant/system records; tool exchange records stay in the log, not the window. */
function replayableRecords(records: SessionRecord[]): SessionRecord[] {
  return records.filter((r) => r.kind === undefined && (r.role === 'user' || r.role === 'assistant' || r.role === 'system'));
}

function replayable(records: SessionRecord[]): ChatMessage[] {
  return records.map((r) => ({ role: r.role as ChatMessage['role'], content: r.content }));
}

/** `request_id`, and `message_id` for channel messages (replays are matched by it). */
function idFields(requestId: string, msg: InboundMessage): { request_id: string; message_id?: string } {
  return msg.messageId !== undefined ? { request_id: requestId, message_id: msg.messageId } : { request_id: requestId };
}

/** The user record stored for a platform message id, with the records around it. */
function findMessage(records: SessionRecord[], messageId: string): { user: SessionRecord; after: SessionRecord[] } | undefined {
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i]!;
    if (r.role === 'user' && r.message_id === messageId) return { user: r, after: records.slice(i + 1) };
  }
  return undefined;
}
