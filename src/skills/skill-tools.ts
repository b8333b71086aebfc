// The `skill_list` and `skill_run` tools (reference core §7.4): `/tool skill_run weather Hanoi`.
// skill_run is risky per call when the skill's header carries `@risky`.
import { AppError, ValidationError, errorChain } from '../kernel/index.js';
import type { Tool } from '../tools/index.js';
import type { SkillManager } from './manager.js';

const WS = /\s/u;

function splitSkillArgs(args: string): { name: string; rest: string } {
  const t = args.trim();
  const m = WS.exec(t);
  return m ? { name: t.slice(0, m.index), rest: t.slice(m.index).trim() } : { name: t, rest: '' };
}

export function skillListTool(skills: () => SkillManager): Tool {
  return {
    name: 'skill_list',
    description: 'List installed runtime skills.',
    usage: '/tool skill_list',
    async run(args) {
      if (args.trim() !== '') throw new ValidationError('skill_list does not accept arguments');
      return JSON.stringify({ skills: skills().names() }, null, 2);
    },
  };
}

export function skillRunTool(skills: () => SkillManager): Tool {
  return {
    name: 'skill_run',
    description: 'Run a runtime skill. Args: <skill_name> [skill_args]',
    usage: '/tool skill_run <skill_name> [skill_args]',
    isRisky(args) {
      const { name } = splitSkillArgs(args);
      return name !== '' && skills().isRisky(name);
    },
    parameters: {
      type: 'object',
      properties: {
        skill: { type: 'string', description: 'Skill name ([a-z0-9_-]).' },
        args: { type: 'string', description: 'Arguments passed to the skill as one string. Empty when none.' },
      },
      required: ['skill'],
      additionalProperties: false,
    },
    argsFromCall(input) {
      const skill = typeof input.skill === 'string' ? input.skill.trim() : '';
      const rest = typeof input.args === 'string' ? input.args.trim() : '';
      return rest ? `${skill} ${rest}` : skill;
    },
    async run(args, ctx) {
      const { name, rest } = splitSkillArgs(args);
      if (name === '') throw new ValidationError('skill_run requires skill name. usage: /tool skill_run <skill_name> [skill_args]');
      try {
        return await skills().run(name, rest, ctx.signal);
      } catch (err) {
        throw new AppError('skill', `failed running skill '${name}': ${errorChain(err)}`, { cause: err });
      }
    },
  };
}
