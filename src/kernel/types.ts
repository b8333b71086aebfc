// The shapes every entry point speaks: a message in, a reply out, and the turn record.

/** One inbound message, whatever brought it (CLI, Telegram, WhatsApp, Pulse). */
export interface InboundMessage {
  /** Session id, e.g. `demo`, `telegram:12345`, `whatsapp:1234@s.whatsapp.net`. */
  sessionId: string;
  text: string;
  /** Where it came from: `cli`, `telegram`, `whatsapp`, `pulse`… (for deferred replies and logs). */
  channel?: string;
  /** Chat to answer in (channels); deferred answers (queued Codex tasks) are sent here. */
  chatId?: string;
  senderId?: string;
  /**
   * Platform message id (channels). A message replayed after a crash is answered from the
   * session (stored answer) or resumed without storing its user line twice.
   */
  messageId?: string;
  /** Aborts the turn (shutdown). */
  signal?: AbortSignal;
}

export type TurnPath = 'provider' | 'tool' | 'skill';
export type TurnStatus = 'ok' | 'error';

/** The result of one turn. A failed turn is a Reply with status `error`, never a throw. */
export interface Reply {
  requestId: string;
  sessionId: string;
  status: TurnStatus;
  /** Text for the user (ok), or the full error text (error; never shown to chat users). */
  text: string;
  path: TurnPath;
  /** True when the answer will arrive later (Codex task queued); `text` says so. */
  deferred?: boolean;
  error?: string;
  /** How to fix it, when known (printed by the CLI after the error). */
  hint?: string;
}

/** One turn as logged (`event=turn`) and kept in telemetry (`last_turn`). Field order is the original's. */
export interface TurnRecord {
  timestamp: string;
  request_id: string;
  session_id: string;
  path: TurnPath;
  /** `queued`: the provider queued the work (Codex pool); the answer follows as a deferred reply. */
  status: TurnStatus | 'queued';
  provider: string;
  model: string;
  tool_name: string | null;
  attempts: number | null;
  latency_ms: number | null;
  user_chars: number;
  response_chars: number;
  error: string | null;
}

/** A reply produced later for a chat (e.g. a queued Codex task ran). Channels subscribe. */
export interface DeferredReply {
  sessionId: string;
  channel: string | undefined;
  chatId: string | undefined;
  text: string;
  requestId: string;
}
