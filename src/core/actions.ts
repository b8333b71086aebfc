// The `/tool …` action convention for providers without native function calling (Codex):
// a reply that is exactly one `/tool` line (or a legacy `/skills` line) asks for a tool.
import { parseToolInvocation, type ToolInvocation } from '../tools/index.js';

/** Returns the tool the model asked for, or undefined when the reply is a normal answer. */
export function parseAssistantAction(reply: string): ToolInvocation | undefined {
  const text = reply.trim();
  if (text === '' || text.includes('\n')) return undefined;
  const inv = parseToolInvocation(text);
  if (inv) return inv.name ? inv : undefined;
  return parseLegacySkills(text);
}

/** `/skills weather --args Paris` → skill_run `weather Paris` (word boundary enforced, unlike the original). */
export function parseLegacySkills(text: string): ToolInvocation | undefined {
  const m = /^\/skills(?:\s+(.*))?$/s.exec(text);
  if (!m) return undefined;
  const words = (m[1] ?? '').split(/\s+/).filter(Boolean);
  if (words.length === 0) return undefined;
  const skillIndex = words[0] === 'run' ? 1 : 0;
  const skill = words[skillIndex];
  if (!skill || skill.startsWith('-')) return undefined;
  const rest = words.slice(skillIndex + 1);
  const argsAt = rest.indexOf('--args');
  const args = (argsAt >= 0 ? rest.slice(argsAt + 1) : rest).join(' ');
  return { name: 'skill_run', args: args ? `${skill} ${args}` : skill };
}

export const TOOL_FOLLOW_UP =
  'A tool result is available in the previous system message. Respond directly to the end user using that result. Only emit a `/tool ...` command if one more tool call is strictly required.';

export const TOOL_LIMIT_REACHED =
  'Tool execution limit reached for this turn. Please refine your request or run the remaining command manually.';
