// The runtime's one door and the one road out, as the small interfaces the composition root
// (app/) hands to the parts that need model work or late delivery (Pulse, the Brain, later
// Evolution). Those parts never import core/ or app/: they get these.
import type { DeferredReply, InboundMessage, Reply } from './types.js';

/** Non-chat model work (Pulse's orient step, Evolution's skill generation). */
export interface AgentTask {
  /** Where the exchange is kept, like any turn (`pulse`, `evolution`). */
  sessionId: string;
  /** What the work is for (provider logs, queued Codex tasks): `pulse_ooda`, … */
  purpose: string;
  /** The system prompt of this work (not the chat persona). */
  instructions: string;
  /** The request itself (kept in the session as the user record). */
  prompt: string;
  /** Let the model use tools and skills (default false: a plain answer). */
  tools?: boolean;
  signal?: AbortSignal;
}

/** A deterministic action run as a turn: a skill run, an approved tool. */
export interface ActionTask {
  sessionId: string;
  kind: 'tool' | 'skill';
  name: string;
  args: string;
  /**
   * Continues an earlier turn (a tool the operator approved later): that turn's request id. No
   * user record is written; the result (or the failure) is appended as an assistant record.
   */
  continues?: string;
  /** The assistant record for the output (default: `[tool:<name>]\n<output>`). */
  format?(output: string): string;
  /** The assistant record for a failure of a continued turn (default: none). */
  formatError?(message: string): string;
  signal?: AbortSignal;
}

/** A turn's reply plus the raw output of an action (ActionTask). */
export interface ActionReply extends Reply {
  output?: string;
}

/** The one door for model work: every path appends to the session, logs `event=turn`, counts. */
export interface TurnDoor {
  /** A chat message (CLI, Telegram, WhatsApp). Never throws: failures are a Reply with status `error`. */
  handle(msg: InboundMessage): Promise<Reply>;
  /** Non-chat model work. Never throws. */
  agent(task: AgentTask): Promise<Reply>;
  /** A deterministic action as a turn. Never throws. */
  act(task: ActionTask): Promise<ActionReply>;
  /** An answer that arrives after its turn: kept in its session, then sent through the outbox. */
  completeDeferred(reply: DeferredReply): Promise<void>;
}

/** What goes out after its turn. */
export type OutboxKind = 'reply' | 'notification' | 'approval' | 'report';

export interface OutboxMessage {
  kind: OutboxKind;
  /** Channel that owns the chat (`telegram`, `whatsapp`). */
  channel: string;
  chatId: string;
  text: string;
  /** The session the message belongs to, when any (already recorded there). */
  sessionId?: string;
  requestId?: string;
}

/** The one road out: durable before it resolves; `serve`'s drainer delivers. */
export interface OutboxWriter {
  enqueue(message: OutboxMessage): Promise<void>;
}

/** `telegram:42` → { channel: 'telegram', chatId: '42' }; undefined when either part is missing. */
export function parseTarget(target: string): { channel: string; chatId: string } | undefined {
  const i = target.indexOf(':');
  if (i <= 0 || i === target.length - 1) return undefined;
  return { channel: target.slice(0, i).trim(), chatId: target.slice(i + 1).trim() };
}
