// OpenAI Chat Completions wire format: our messages and tool specs → request body, and a
// response body → content/tool calls, with the original's exact parse errors (reference §5.3).
import { isTransientMessage } from './retry.js';
import type { ChatMessage, ToolCall, ToolSpec } from './types.js';
import { AppError } from '../kernel/index.js';

export const TEMPERATURE = 0.2;

/** A failure to understand a response; `transient` only for provider errors that read so. */
export class WireError extends AppError {
  constructor(message: string, readonly transient: boolean) {
    super('provider_wire', message);
  }
}

type WireMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> }
  | { role: 'tool'; tool_call_id: string; content: string };

/** Maps a conversation to the OpenAI message shapes. */
export function toWireMessages(messages: ChatMessage[]): WireMessage[] {
  return messages.map((m): WireMessage => {
    if (m.role === 'assistant') {
      if (m.tool_calls && m.tool_calls.length > 0) {
        return {
          role: 'assistant',
          content: m.content ? m.content : null,
          tool_calls: m.tool_calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
        };
      }
      return { role: 'assistant', content: m.content };
    }
    if (m.role === 'tool') {
      // A tool result that answers no call cannot be sent as `tool`; keep it as context.
      if (!m.tool_call_id) return { role: 'system', content: `[tool:${m.name ?? 'unknown'}]\n${m.content}` };
      return { role: 'tool', tool_call_id: m.tool_call_id, content: m.content };
    }
    return { role: m.role, content: m.content };
  });
}

/** The request body: model, messages, temperature, and `tools` when any are offered. */
export function buildRequestBody(model: string, messages: ChatMessage[], tools: ToolSpec[] | undefined): Record<string, unknown> {
  const body: Record<string, unknown> = { model, messages: toWireMessages(messages), temperature: TEMPERATURE };
  if (tools && tools.length > 0) {
    body.tools = tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
  }
  return body;
}

export interface ParsedCompletion {
  content: string;
  toolCalls: ToolCall[];
  tokensUsed: number;
}

/** The `error.message` (or string `error`) of a body, if it has one. */
export function providerErrorMessage(json: unknown): string | undefined {
  if (!isObject(json) || !('error' in json) || json.error === null || json.error === undefined) return undefined;
  const e = json.error;
  if (typeof e === 'string') return e;
  if (isObject(e) && typeof e.message === 'string') return e.message;
  return 'unknown error';
}

/** Parses a 2xx body. Throws WireError with the original's messages. */
export function parseCompletion(text: string): ParsedCompletion {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WireError('failed parsing provider response json', false);
  }
  const err = providerErrorMessage(json);
  if (err !== undefined) throw new WireError(`provider returned error: ${err}`, isTransientMessage(err));
  if (!isObject(json) || !Array.isArray(json.choices)) throw new WireError('provider response missing choices array', false);
  if (json.choices.length === 0) throw new WireError('provider response has empty choices array', false);
  const first: unknown = json.choices[0];
  const message = isObject(first) ? first.message : undefined;
  if (!isObject(message)) throw new WireError('provider response missing choices[0].message', false);

  const toolCalls = parseToolCalls(message.tool_calls);
  const raw = message.content;
  if ((raw === undefined || raw === null) && toolCalls.length === 0) throw new WireError('provider response missing choices[0].message.content', false);
  const content = contentText(raw);
  if (content === '' && toolCalls.length === 0) throw new WireError('provider response content is empty', false);
  return { content, toolCalls, tokensUsed: tokens(json.usage) };
}

function contentText(raw: unknown): string {
  if (typeof raw === 'string') return raw.trim();
  if (Array.isArray(raw)) {
    return raw
      .map((part) => (isObject(part) && typeof part.text === 'string' ? part.text.trim() : ''))
      .filter((t) => t !== '')
      .join('\n');
  }
  return '';
}

function parseToolCalls(raw: unknown): ToolCall[] {
  if (!Array.isArray(raw)) return [];
  const out: ToolCall[] = [];
  raw.forEach((c: unknown, i) => {
    if (!isObject(c) || !isObject(c.function)) throw new WireError(`provider response has a malformed tool call at index ${i}`, false);
    const name = c.function.name;
    if (typeof name !== 'string' || name === '') throw new WireError(`provider response has a tool call without a name at index ${i}`, false);
    const args = c.function.arguments;
    const id = typeof c.id === 'string' && c.id !== '' ? c.id : `call_${i}`;
    out.push({ id, name, arguments: typeof args === 'string' ? args : args === undefined || args === null ? '' : JSON.stringify(args) });
  });
  return out;
}

function tokens(usage: unknown): number {
  if (!isObject(usage)) return 0;
  if (typeof usage.total_tokens === 'number') return usage.total_tokens;
  if (typeof usage.prompt_tokens === 'number') return usage.prompt_tokens;
  return 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
