// Built-in tools: model_info, time_now, session_tail (outputs as the original, reference §7.4).
import { ValidationError } from '../kernel/index.js';
import { rfc3339Now } from '../kernel/index.js';
import { sortKeysDeep } from '../kernel/index.js';
import type { Tool } from './types.js';

function noArgs(name: string, args: string): void {
  if (args.trim() !== '') throw new ValidationError(`${name} does not accept arguments`);
}

export const modelInfoTool: Tool = {
  name: 'model_info',
  description: 'Show current runtime provider/model info.',
  usage: '/tool model_info',
  async run(args, ctx) {
    noArgs('model_info', args);
    return `provider=${ctx.settings.provider}\nmodel=${ctx.settings.model}\nsession_id=${ctx.sessionId}`;
  },
};

export const timeNowTool: Tool = {
  name: 'time_now',
  description: 'Show current UTC timestamp in RFC3339.',
  usage: '/tool time_now',
  async run(args) {
    noArgs('time_now', args);
    return rfc3339Now();
  },
};

export const sessionTailTool: Tool = {
  name: 'session_tail',
  description: 'Show latest messages from current session.',
  usage: '/tool session_tail [count]',
  async run(args, ctx) {
    const t = args.trim();
    let count = 5;
    if (t !== '') {
      if (!/^\d+$/.test(t)) throw new ValidationError('count must be a positive integer');
      count = Number(t);
      if (count === 0) throw new ValidationError('count must be > 0');
    }
    count = Math.min(count, 50);
    const tail = await ctx.sessionTail(count);
    return JSON.stringify(
      sortKeysDeep({
        messages: tail.messages.map((m) => ({ role: m.role, content: m.content, timestamp: m.timestamp })),
        returned_messages: tail.messages.length,
        session_id: ctx.sessionId,
        total_messages: tail.total,
      }),
      null,
      2,
    );
  },
};

export const builtinTools: Tool[] = [modelInfoTool, sessionTailTool, timeNowTool];
