// Reads a guest (QuickJS) error value defensively: name, message, and the first stack frame's
// line/column. Never throws; guest getters that misbehave just leave fields out.
import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten-core';

export interface GuestErrorInfo {
  name: string;
  message: string;
  line?: number;
  column?: number;
  /** `file:line:column` of the innermost frame, when known. */
  location?: string;
}

const MAX_MESSAGE_CHARS = 1000;

export function describeGuestError(ctx: QuickJSContext, h: QuickJSHandle): GuestErrorInfo {
  try {
    const t = ctx.typeof(h);
    if (t !== 'object') {
      const v = t === 'string' ? ctx.getString(h) : t === 'number' ? String(ctx.getNumber(h)) : t;
      return { name: 'Error', message: cap(`uncaught ${t === 'string' ? 'string' : 'value'}: ${v}`) };
    }
    const name = read(ctx, h, 'name');
    const message = read(ctx, h, 'message');
    const stack = read(ctx, h, 'stack');
    const lineNumber = read(ctx, h, 'lineNumber');
    const info: GuestErrorInfo = { name: typeof name === 'string' && name ? cap(name) : 'Error', message: typeof message === 'string' ? cap(message) : '' };
    const m = typeof stack === 'string' ? /at (?:[^\n(]*\()?([^\s():]+):(\d+)(?::(\d+))?\)?/.exec(stack) : null;
    if (m) {
      info.line = Number(m[2]);
      if (m[3]) info.column = Number(m[3]);
      info.location = `${m[1]}:${m[2]}${m[3] ? `:${m[3]}` : ''}`;
    } else if (typeof lineNumber === 'number') info.line = lineNumber;
    return info;
  } catch {
    return { name: 'Error', message: 'unreadable error value' };
  }
}

function read(ctx: QuickJSContext, h: QuickJSHandle, key: string): string | number | undefined {
  try {
    const v = ctx.getProp(h, key);
    try {
      const t = ctx.typeof(v);
      return t === 'string' ? ctx.getString(v) : t === 'number' ? ctx.getNumber(v) : undefined;
    } finally {
      v.dispose();
    }
  } catch {
    return undefined;
  }
}

function cap(s: string): string {
  return s.length > MAX_MESSAGE_CHARS ? `${s.slice(0, MAX_MESSAGE_CHARS)}...` : s;
}
