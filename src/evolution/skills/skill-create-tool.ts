// The `skill_create` tool: the model proposes a skill (name + goal) during a chat turn. The
// proposal runs through the same pipeline in the background and, whatever the code does, ends
// in an approval request to the operator: a model-proposed skill never goes live on its own.
import { ValidationError } from '../../kernel/index.js';
import { normalizeSkillName } from '../../skills/index.js';
import type { Tool } from '../../tools/index.js';

export interface SkillProposal {
  name: string;
  goal: string;
  sessionId: string;
}

const MAX_GOAL_CHARS = 400;

export function skillCreateTool(propose: (p: SkillProposal) => void): Tool {
  return {
    name: 'skill_create',
    description: 'Propose a new runtime skill. It is written, tested in the sandbox and then needs the operator\'s approval. Args: <skill_name> <goal>',
    usage: '/tool skill_create <skill_name> <goal>',
    parameters: {
      type: 'object',
      properties: { name: { type: 'string', description: 'Skill name ([a-z0-9_-]).' }, goal: { type: 'string', description: 'What the skill should do, in one or two sentences.' } },
      required: ['name', 'goal'],
      additionalProperties: false,
    },
    argsFromCall: (input) => `${String(input.name ?? '').trim()} ${String(input.goal ?? '').trim()}`.trim(),
    async run(args, ctx) {
      const t = args.trim();
      const cut = t.search(/\s/);
      if (cut < 0) throw new ValidationError('skill_create needs a name and a goal: <skill_name> <goal>');
      const name = normalizeSkillName(t.slice(0, cut));
      const goal = t.slice(cut).trim();
      if (goal.length > MAX_GOAL_CHARS) throw new ValidationError(`skill_create goal is too long (max ${MAX_GOAL_CHARS} characters)`);
      propose({ name, goal, sessionId: ctx.sessionId });
      return `proposal accepted: skill '${name}' is being written and tested; the operator will be asked to approve it before it goes live. Tell the user it is pending.`;
    },
  };
}
