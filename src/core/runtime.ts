// The runtime's one door (kernel TurnDoor): chat turns, non-chat model work (Pulse's orient
// step, later Evolution), deterministic actions (skill runs, approved tools) and late answers
// all go through one pipeline: per-session order, a bound on turns at once, the user's message
// persisted before the provider is called, exactly one `event=turn` line and one telemetry
// record per turn. Its parts are private: nothing outside calls the provider or appends to a
// session directly.
import { AppError, MessageTooLargeError, TurnError, ValidationError, errorChain, KeyedQueue, oversize } from '../kernel/index.js';
import { boundHistoryBytes } from './history-budget.js';
import { nextRequestId } from './ids.js';
import { BusCounter } from './bus-counters.js';
import { PromptBuilder, renderCapabilities } from './prompt.js';
import { runAgent } from './agent.js';
import { recordLateReply } from './late.js';
import { assistantRecord, replayable, replayableRecords, rfc3339Now, userRecord } from './records.js';
import { emitEvent } from '../observe/index.js';
import { ToolRegistry, codePoints, parseToolInvocation, refuseRiskyGate, type ApprovalGate, type ToolContext } from '../tools/index.js';
import { validateSessionId, type RecentView, type SessionRecord, type SessionStore, type Telemetry } from '../store/index.js';
import { ProviderError, type ChatMessage, type Provider } from '../providers/index.js';
import type { Settings } from '../config/index.js';
import type { ActionReply, ActionTask, AgentTask, DeferredReply, InboundMessage, OutboxWriter, Reply, TurnDoor, TurnPath, TurnRecord } from '../kernel/index.js';

/** The skills the runtime names in its prompt and runs for `skills run`. */
export interface SkillRunner {
  names(): string[];
  run(name: string, args: string, signal?: AbortSignal): Promise<string>;
}

export interface RuntimeDeps {
  settings: Settings;
  sessions: SessionStore;
  telemetry: Telemetry;
  tools: ToolRegistry;
  provider: Provider;
  /** Risky model-requested tools (Pulse approvals). Default: refuse. */
  approvals?: ApprovalGate;
  skills?: SkillRunner;
  /** Where late answers go (the durable outbox). Without it they are only kept in the session. */
  outbox?: OutboxWriter;
}

type TurnOutcome = Omit<TurnRecord, 'timestamp' | 'request_id' | 'session_id' | 'provider' | 'model'>;

/** How a provider turn is asked: a chat message, or non-chat work with its own instructions. */
interface ProviderCall {
  sessionId: string;
  text: string;
  purpose: string;
  /** System prompt; undefined: the chat persona with its capabilities. */
  instructions?: string;
  history: boolean;
  tools: ToolRegistry;
  channel?: string;
  chatId?: string;
  signal?: AbortSignal;
  /** Platform message id (channels): stored with the user line; replays are matched by it. */
  messageId?: string;
  /** The user line of this message, stored by a run that crashed before answering. */
  resumed?: SessionRecord;
  /** The session's last records, already read (the replay check): the history window reuses them. */
  recent?: readonly SessionRecord[];
  /** The session's line count when `recent` was read. */
  total?: number;
}

const NO_TOOLS = new ToolRegistry();

export class Runtime implements TurnDoor {
  private readonly settings: Settings;
  private readonly sessions: SessionStore;
  private readonly telemetry: Telemetry;
  private readonly tools: ToolRegistry;
  private readonly provider: Provider;
  private readonly approvals: ApprovalGate;
  private readonly skills: SkillRunner | undefined;
  private readonly outbox: OutboxWriter | undefined;
  private readonly prompt = new PromptBuilder();
  private readonly bus: BusCounter;
  private readonly queue: KeyedQueue;
  private readonly turnListeners = new Set<(record: TurnRecord) => void>();
  private reported = { published: 0, consumed: 0, dropped: 0, hits: 0, misses: 0 };

  constructor(deps: RuntimeDeps) {
    this.settings = deps.settings;
    this.sessions = deps.sessions;
    this.telemetry = deps.telemetry;
    this.tools = deps.tools;
    this.provider = deps.provider;
    this.approvals = deps.approvals ?? refuseRiskyGate;
    this.skills = deps.skills;
    this.outbox = deps.outbox;
    this.bus = new BusCounter(deps.settings.busCapacity, deps.settings.busOverflow);
    this.queue = new KeyedQueue(deps.settings.maxConcurrentTurns);
  }

  /** Turns waiting for a slot (metrics). */
  get queueDepth(): number {
    return this.queue.depth;
  }

  /** Runs one chat turn. Never throws: failures come back as a Reply with status `error`. */
  handle(msg: InboundMessage): Promise<Reply> {
    const requestId = nextRequestId();
    try {
      validateSessionId(msg.sessionId);
    } catch (err) {
      return Promise.resolve(this.fail(requestId, msg.sessionId, 'provider', err, { attempts: null, latency_ms: null, user_chars: codePoints(msg.text) }));
    }
    // Refused before anything is stored (every door: channels, run, repl).
    const bytes = oversize(msg.text, this.settings.maxMessageBytes);
    if (bytes !== undefined) {
      return Promise.resolve(this.fail(requestId, msg.sessionId, 'provider', new MessageTooLargeError(bytes, this.settings.maxMessageBytes), { attempts: null, latency_ms: null, user_chars: codePoints(msg.text) }));
    }
    return this.queue.run(msg.sessionId, () => {
      let id = requestId;
      let resumed: SessionRecord | undefined;
      let recent: RecentView | undefined;
      if (msg.messageId !== undefined) {
        // A replay (the channel re-delivered a message after a crash): never store it twice,
        // never ask the model twice for an answer we have (docs/delivery.md). The records read
        // here also serve as the history window (one read per turn).
        try {
          recent = this.sessions.recent(msg.sessionId, this.recentWindow());
        } catch {
          recent = undefined; // unreadable session: the turn below reports it
        }
        const at = recent ? recent.indexOfUserMessage(msg.messageId) : -1;
        if (recent && at >= 0) {
          const found = { user: recent.records[at]!, after: recent.records.slice(at + 1) };
          const original = typeof found.user.request_id === 'string' ? found.user.request_id : requestId;
          const answer = found.after.find((r) => r.role === 'assistant' && r.kind === undefined && r.request_id === original);
          emitEvent('turn_replay', { request_id: original, session_id: msg.sessionId, message_id: msg.messageId, action: answer ? 'resend_stored_answer' : 'resume_turn' });
          if (answer) return Promise.resolve<Reply>({ requestId: original, sessionId: msg.sessionId, status: 'ok', text: answer.content, path: found.user.content.startsWith('/tool') ? 'tool' : 'provider' });
          resumed = found.user;
          id = original;
        }
      }
      const inv = parseToolInvocation(msg.text);
      if (inv) return this.toolTurn(id, msg, inv.name, inv.args);
      return this.providerTurn(id, { sessionId: msg.sessionId, text: msg.text, purpose: `provider_turn:${msg.sessionId}`, history: true, tools: this.tools, channel: msg.channel, chatId: msg.chatId, signal: msg.signal, messageId: msg.messageId, resumed, recent: recent?.records, total: recent?.total });
    });
  }

  /** Records read for the replay check: enough to serve the history window too. */
  private recentWindow(): number {
    return Math.max(32, this.settings.historyWindow * 2 + 8);
  }

  /** Like handle(), but throws a TurnError on failure (CLI convenience). */
  async handleOrThrow(msg: InboundMessage): Promise<Reply> {
    const reply = await this.handle(msg);
    if (reply.status === 'error') throw new TurnError(reply.requestId, reply.error ?? reply.text);
    return reply;
  }

  /** Non-chat model work: its own instructions, no history replay, recorded like any turn. */
  agent(task: AgentTask): Promise<Reply> {
    const requestId = nextRequestId();
    try {
      validateSessionId(task.sessionId);
    } catch (err) {
      return Promise.resolve(this.fail(requestId, task.sessionId, 'provider', err, { attempts: null, latency_ms: null, user_chars: codePoints(task.prompt) }));
    }
    const instructions = task.tools ? `${task.instructions}\n\n## Runtime Capabilities\n${renderCapabilities(this.promptInputs())}` : task.instructions;
    return this.queue.run(task.sessionId, () =>
      this.providerTurn(requestId, { sessionId: task.sessionId, text: task.prompt, purpose: task.purpose, instructions, history: false, tools: task.tools ? this.tools : NO_TOOLS, signal: task.signal }),
    );
  }

  /** A skill run or an approved tool as a turn (`path` skill or tool). */
  act(task: ActionTask): Promise<ActionReply> {
    const requestId = nextRequestId();
    const command = `/${task.kind} ${task.name.trim()} ${task.args.trim()}`.trim();
    const base = { attempts: null, latency_ms: null as number | null, user_chars: codePoints(command), tool_name: task.name.trim() || null };
    try {
      validateSessionId(task.sessionId);
    } catch (err) {
      return Promise.resolve(this.fail(requestId, task.sessionId, task.kind, err, base));
    }
    return this.queue.run(task.sessionId, async (): Promise<ActionReply> => {
      const started = Date.now();
      try {
        const output = await this.runAction(requestId, task);
        const text = task.format ? task.format(output) : `[${task.kind}:${task.name}]\n${output}`;
        if (task.continues) await this.sessions.append(task.sessionId, assistantRecord(text, { request_id: task.continues }));
        else await this.sessions.append(task.sessionId, userRecord(command, requestId), assistantRecord(text));
        this.bus.publish();
        this.bus.publish();
        this.recordTurn(requestId, task.sessionId, { ...base, path: task.kind, status: 'ok', latency_ms: Date.now() - started, response_chars: codePoints(output), error: null });
        return { requestId, sessionId: task.sessionId, status: 'ok', text, path: task.kind, output };
      } catch (err) {
        if (task.continues && task.formatError) {
          await this.sessions.append(task.sessionId, assistantRecord(task.formatError(errorChain(err)), { request_id: task.continues })).catch((e) => emitEvent('session_error', { session_id: task.sessionId, message: errorChain(e) }));
        }
        return this.fail(requestId, task.sessionId, task.kind, err, { ...base, latency_ms: Date.now() - started });
      }
    });
  }

  /** A late answer: appended to its session, then handed to the outbox for its chat. */
  async completeDeferred(reply: DeferredReply): Promise<void> {
    // Not through the session queue: a queued task may finish inside another turn of the same
    // session (the pool drains before it runs new work), which would then wait for itself.
    await recordLateReply(this.sessions, this.outbox, reply);
    this.bus.publish();
  }

  /** Subscribes to every turn record (metrics). */
  onTurn(fn: (record: TurnRecord) => void): () => void {
    this.turnListeners.add(fn);
    return () => this.turnListeners.delete(fn);
  }

  /** Waits for queued turns and writes telemetry. Call before the process exits. */
  async close(): Promise<void> {
    await this.queue.idle();
    await this.sessions.close().catch((err) => emitEvent('session_error', { message: errorChain(err), session_id: '*' }));
    await this.telemetry.flush().catch((err) => emitEvent('telemetry_error', { message: errorChain(err) }));
  }

  private async runAction(requestId: string, task: ActionTask): Promise<string> {
    if (task.kind === 'skill') {
      if (!this.skills) throw new AppError('skill', 'skills are not available in this process');
      return this.skills.run(task.name.trim(), task.args.trim(), task.signal);
    }
    return this.tools.execute(task.name, task.args, this.toolContext(requestId, task.sessionId, 'assistant', task.signal));
  }

  /** Emits the `event=turn` line and counts the turn. Every path ends here. */
  private recordTurn(requestId: string, sessionId: string, outcome: TurnOutcome): TurnRecord {
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
    // Keys sorted, as the original's json! macro printed them (written out: sorting per turn costs).
    const r = record;
    emitEvent('turn', { attempts: r.attempts, error: r.error, latency_ms: r.latency_ms, model: r.model, path: r.path, provider: r.provider, request_id: r.request_id, response_chars: r.response_chars, session_id: r.session_id, status: r.status, timestamp: r.timestamp, tool_name: r.tool_name, user_chars: r.user_chars });
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

  private toolContext(requestId: string, sessionId: string, source: 'user' | 'assistant', signal?: AbortSignal): ToolContext {
    return {
      sessionId,
      requestId,
      settings: this.settings,
      source,
      signal,
      sessionTail: async (count) => ({ messages: this.sessions.tail(sessionId, count), total: this.sessions.count(sessionId) }),
    };
  }

  private async toolTurn(requestId: string, msg: InboundMessage, name: string, args: string): Promise<Reply> {
    const command = args ? `/tool ${name} ${args}` : `/tool ${name}`;
    const base = { attempts: null, latency_ms: null, user_chars: codePoints(command), tool_name: name || null };
    if (!name) return this.fail(requestId, msg.sessionId, 'tool', new ValidationError('tool command missing name. usage: /tool <name> [args]'), base);
    try {
      const output = await this.tools.execute(name, args, this.toolContext(requestId, msg.sessionId, 'user', msg.signal));
      const response = `[tool:${name}]\n${output}`;
      await this.sessions.append(msg.sessionId, withMessageId(userRecord(command, requestId), msg.messageId), assistantRecord(response, { request_id: requestId }));
      this.bus.publish();
      this.bus.publish();
      this.recordTurn(requestId, msg.sessionId, { ...base, path: 'tool', status: 'ok', response_chars: codePoints(response), error: null });
      return { requestId, sessionId: msg.sessionId, status: 'ok', text: response, path: 'tool' };
    } catch (err) {
      // As the original: a refused or failed tool command leaves nothing in the session.
      return this.fail(requestId, msg.sessionId, 'tool', err, base);
    }
  }

  private async providerTurn(requestId: string, call: ProviderCall): Promise<Reply> {
    const { sessionId } = call;
    const userChars = codePoints(call.text);
    let history: SessionRecord[];
    let historyTotal: number;
    let userSynced: Promise<void>;
    try {
      let { recent } = call;
      historyTotal = call.total ?? -1;
      if (call.history && !recent && this.settings.historyWindow > 0) ({ records: recent, total: historyTotal } = this.sessions.recent(sessionId, this.recentWindow()));
      history = call.history ? this.historyWindow(sessionId, recent) : [];
      if (historyTotal < 0) historyTotal = this.sessions.count(sessionId);
      if (call.resumed) {
        // Its user line (and any tool records of the interrupted attempt) is already stored.
        history = history.filter((r) => r !== call.resumed && r.request_id !== requestId);
        historyTotal = Math.max(0, historyTotal - 1);
        userSynced = Promise.resolve();
      } else {
        // Persist the user's message first: a failing provider must not lose it. The disk flush
        // overlaps the provider call and is awaited before the turn ends.
        userSynced = this.sessions.appendDeferred(sessionId, withMessageId(userRecord(call.text, requestId), call.messageId));
      }
      userSynced.catch(() => undefined); // awaited below; never an unhandled rejection
    } catch (err) {
      const e = err instanceof ValidationError ? err : new AppError('session', `failed loading session history: ${errorChain(err)}`, { cause: err });
      return this.fail(requestId, sessionId, 'provider', e, { attempts: 0, latency_ms: null, user_chars: userChars, tool_name: null });
    }
    this.bus.publish();
    const messages: ChatMessage[] = [{ role: 'system', content: call.instructions ?? this.systemPrompt() }, ...replayable(history), { role: 'user', content: call.text }];
    try {
      const result = await runAgent({
        provider: this.provider,
        tools: call.tools,
        approvals: this.approvals,
        request: { requestId, sessionId, messages, purpose: call.purpose, historyTotal, origin: { channel: call.channel, chatId: call.chatId }, signal: call.signal },
        toolContext: this.toolContext(requestId, sessionId, 'assistant', call.signal),
        persist: (records) => this.sessions.append(sessionId, ...records),
      });
      if (!result.queued) await this.sessions.append(sessionId, assistantRecord(result.content, { request_id: requestId }));
      await userSynced;
      this.bus.publish();
      this.recordTurn(requestId, sessionId, {
        path: 'provider',
        status: result.queued ? 'queued' : 'ok',
        tool_name: result.toolNames.length ? result.toolNames.join(',') : null,
        attempts: result.attempts,
        latency_ms: result.queued ? null : result.latencyMs,
        user_chars: userChars,
        response_chars: codePoints(result.content),
        error: null,
      });
      return { requestId, sessionId, status: 'ok', text: result.content, path: 'provider', deferred: result.queued ? true : undefined };
    } catch (err) {
      await userSynced.catch(() => undefined);
      const attempts = err instanceof ProviderError ? err.attempts : 0;
      const latency = err instanceof ProviderError ? err.latencyMs : null;
      return this.fail(requestId, sessionId, 'provider', err, { attempts, latency_ms: latency, user_chars: userChars, tool_name: null });
    }
  }

  /**
   * The last `historyWindow` plain messages, at most `historyMaxBytes` of them. Tool exchange
   * records stay in the log but are not
   * replayed, so when some are in the way a larger tail is read (rarely needed).
   */
  private historyWindow(sessionId: string, recent?: readonly SessionRecord[]): SessionRecord[] {
    const want = this.settings.historyWindow;
    if (want === 0) return [];
    if (recent) {
      const plain = replayableRecords(recent);
      // The whole session was read, or enough plain messages: no second read.
      if (recent.length < this.recentWindow() || plain.length >= want) return boundHistoryBytes(plain.slice(-want), this.settings.historyMaxBytes);
    }
    let read = want;
    for (;;) {
      const raw = this.sessions.recent(sessionId, read).records;
      const plain = replayableRecords(raw);
      if (plain.length >= want || raw.length < read || read >= want * 8) return boundHistoryBytes(plain.slice(-want), this.settings.historyMaxBytes);
      read *= 2;
    }
  }

  private promptInputs() {
    let skills: string[] | { error: string } = [];
    try {
      skills = this.skills ? this.skills.names() : [];
    } catch (err) {
      skills = { error: errorChain(err) };
    }
    return { provider: this.settings.provider, model: this.settings.model, tools: this.tools.list(), skills, nativeTools: this.provider.nativeTools };
  }

  private systemPrompt(): string {
    return this.prompt.build(this.promptInputs());
  }

  private fail(requestId: string, sessionId: string, path: TurnPath, err: unknown, base: { attempts: number | null; latency_ms: number | null; user_chars: number; tool_name?: string | null }): Reply {
    let message = errorChain(err);
    if (err instanceof ProviderError) message = `${message} (attempts=${err.attempts}, latency_ms=${err.latencyMs})`;
    this.recordTurn(requestId, sessionId, { path, status: 'error', tool_name: base.tool_name ?? null, attempts: base.attempts, latency_ms: base.latency_ms, user_chars: base.user_chars, response_chars: 0, error: message });
    const hint = err instanceof AppError ? err.hint : undefined;
    return { requestId, sessionId, status: 'error', text: `request_id=${requestId}: ${message}`, path, error: message, ...(hint ? { hint } : {}) };
  }
}

function withMessageId(record: SessionRecord, messageId: string | undefined): SessionRecord {
  return messageId === undefined ? record : { ...record, message_id: messageId };
}
