// The Provider interface: one chat completion (optionally with native tool calls) per call.
import { AppError } from '../kernel/index.js';

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

export interface ToolCall {
  id: string;
  name: string;
  /** JSON text of the arguments, as the model produced it. */
  arguments: string;
}

export interface ChatMessage {
  role: ChatRole;
  content: string;
  /** Assistant messages that request tools. */
  tool_calls?: ToolCall[];
  /** Tool result messages answer this call id. */
  tool_call_id?: string;
  name?: string;
}

/** A function offered to the model (OpenAI `tools` entry). */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface ProviderRequest {
  requestId: string;
  sessionId: string;
  /** System prompt first, then history, then the user's message. */
  messages: ChatMessage[];
  tools?: ToolSpec[];
  /** What the call is for (Codex purpose strings, e.g. `provider_turn:<session>`). */
  purpose?: string;
  /** Messages stored in the session before this turn (the local provider reports it). */
  historyTotal?: number;
  /** Where a deferred answer must go (Codex tasks that had to be queued). */
  origin?: { channel?: string; chatId?: string };
  signal?: AbortSignal;
}

export interface ProviderResult {
  content: string;
  toolCalls?: ToolCall[];
  attempts: number;
  latencyMs: number;
  tokensUsed?: number;
  /** Set when the work was queued (Codex under rate limits); the answer comes later. */
  queued?: { taskId: string; queueDepth: number; reason: string };
}

export interface Provider {
  readonly name: string;
  readonly model: string;
  /** Whether `tools` in the request are honoured natively (function calling). */
  readonly nativeTools: boolean;
  complete(req: ProviderRequest): Promise<ProviderResult>;
}

/** A provider call that failed, with what it cost. */
export class ProviderError extends AppError {
  readonly attempts: number;
  readonly latencyMs: number;
  constructor(message: string, attempts: number, latencyMs: number, options: { hint?: string; cause?: unknown } = {}) {
    super('provider', message, options);
    this.attempts = attempts;
    this.latencyMs = latencyMs;
  }
}
