// Renders a conversation (system prompt, history, tool calls and results, the message to
// answer) into the single prompt text the Codex CLI takes. Unlike the original, the history
// and the tool results are in it.
import type { ChatMessage } from './types.js';

const LABEL: Record<ChatMessage['role'], string> = { system: 'System', user: 'User', assistant: 'Assistant', tool: 'Tool result' };

export function renderCodexPrompt(messages: ChatMessage[]): string {
  const rest = [...messages];
  const system = rest[0]?.role === 'system' ? rest.shift()!.content.trim() : '';
  let lastUser = -1;
  for (let i = rest.length - 1; i >= 0; i--) {
    if (rest[i]!.role === 'user') {
      lastUser = i;
      break;
    }
  }
  const current = lastUser >= 0 ? rest[lastUser]!.content.trim() : '';
  const before = lastUser >= 0 ? rest.slice(0, lastUser) : rest;
  const after = lastUser >= 0 ? rest.slice(lastUser + 1) : [];

  const parts: string[] = [];
  if (system) parts.push(system);
  const transcript = [...before, ...after].map(renderMessage).filter(Boolean);
  if (transcript.length > 0) parts.push(`## Conversation so far\n\n${transcript.join('\n\n')}`);
  if (current) parts.push(`## Message to answer\n\nUser: ${current}`);
  return parts.join('\n\n');
}

function renderMessage(m: ChatMessage): string {
  const content = m.content.trim();
  if (m.role === 'assistant' && m.tool_calls?.length) {
    const calls = m.tool_calls.map((c) => `/tool ${c.name} ${c.arguments}`.trim()).join('\n');
    return `Assistant: ${content ? `${content}\n` : ''}${calls}`;
  }
  if (!content) return '';
  if (m.role === 'tool') return `${LABEL.tool}${m.name ? ` (${m.name})` : ''}: ${content}`;
  return `${LABEL[m.role]}: ${content}`;
}
