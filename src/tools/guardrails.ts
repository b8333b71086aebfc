// `/tool` parsing and the guardrails, exactly as the original states them (reference §7.2–7.3).
import { ValidationError } from '../kernel/index.js';

export const MAX_TOOL_NAME_CHARS = 64;
export const MAX_TOOL_ARGS_CHARS = 512;

export interface ToolInvocation {
  name: string;
  args: string;
}

// Unicode White_Space, as Rust's char::is_whitespace.
const WS = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
// Unicode Cc, as Rust's char::is_control.
const CONTROL = /\p{Cc}/u;

/**
 * Parses `/tool <name> [args]`. Returns undefined when the text is not a tool command (exact,
 * case-sensitive `/tool` followed by end or whitespace: `/toolbox` is not a tool command).
 */
export function parseToolInvocation(input: string): ToolInvocation | undefined {
  const text = trimUnicode(input);
  if (!text.startsWith('/tool')) return undefined;
  const after = text.slice(5);
  if (after.length > 0 && !WS.test(after[0]!)) return undefined;
  const rest = trimStartUnicode(after);
  if (rest === '') return { name: '', args: '' };
  const m = WS.exec(rest);
  if (!m) return { name: rest, args: '' };
  return { name: trimUnicode(rest.slice(0, m.index)), args: trimUnicode(rest.slice(m.index)) };
}

/** Throws the original's guardrail errors, in the original's order (checks 1–5). */
export function checkToolInput(name: string, args: string): void {
  const n = trimUnicode(name);
  if (n === '') throw new ValidationError('tool name is empty. usage: /tool <name> [args]');
  if (codePoints(n) > MAX_TOOL_NAME_CHARS) throw new ValidationError(`tool name too long (max ${MAX_TOOL_NAME_CHARS} characters)`);
  if (!/^[a-z0-9_-]+$/.test(n)) throw new ValidationError(`invalid tool name '${n}'. allowed chars: a-z, 0-9, '_' and '-'`);
  if (codePoints(args) > MAX_TOOL_ARGS_CHARS) throw new ValidationError(`tool args too long (max ${MAX_TOOL_ARGS_CHARS} characters)`);
  if (CONTROL.test(args)) throw new ValidationError('tool args contain control characters, which are not allowed');
}

/** Length in Unicode scalar values (Rust `chars().count()`). */
export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

const LEAD_WS = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;
const TRAIL_WS = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/u;

export function trimStartUnicode(s: string): string {
  return s.replace(LEAD_WS, '');
}

export function trimUnicode(s: string): string {
  return s.replace(LEAD_WS, '').replace(TRAIL_WS, '');
}
