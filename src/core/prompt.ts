// System prompt: a static section (identity, provider, model, capabilities) cached by key.
// Unlike the original, the session id and the user's text are not pasted into it: the user's
// message travels once, as the last chat message.

export const IDENTITY =
  'You are Rusty Pinch, a pragmatic Rust-first assistant running inside a constrained runtime. Stay grounded to the declared capabilities. If a capability is not listed, explicitly say it is unavailable.';

export interface PromptInputs {
  provider: string;
  model: string;
  tools: Array<{ name: string; description: string; usage: string }>;
  skills: string[] | { error: string };
  /** Native function calling: the model calls tools as functions instead of `/tool` lines. */
  nativeTools: boolean;
}

export class PromptBuilder {
  hits = 0;
  misses = 0;
  private lastKey: string | undefined;
  private lastText = '';
  /** The inputs of the last build: the same values (tool objects, skill list) need no rendering. */
  private lastInputs: PromptInputs | undefined;

  build(inputs: PromptInputs): string {
    if (sameInputs(this.lastInputs, inputs)) {
      this.hits++;
      return this.lastText;
    }
    this.lastInputs = inputs;
    const capabilities = renderCapabilities(inputs);
    const key = JSON.stringify([inputs.provider, inputs.model, IDENTITY, capabilities]);
    if (key === this.lastKey) {
      this.hits++;
      return this.lastText;
    }
    this.misses++;
    this.lastKey = key;
    this.lastText = `# Rusty Pinch\n\n${IDENTITY}\n\nProvider: ${inputs.provider}\nModel: ${inputs.model}\n\n## Runtime Capabilities\n${capabilities}`;
    return this.lastText;
  }
}

export function renderCapabilities(inputs: PromptInputs): string {
  const tools = inputs.tools.length ? inputs.tools.map((t) => `- ${t.name}: ${t.description} (usage: ${t.usage})`).join('\n') : '- none';
  const skills = Array.isArray(inputs.skills) ? (inputs.skills.length ? inputs.skills.map((s) => `- ${s}`).join('\n') : '- none') : `- unavailable (${inputs.skills.error})`;
  const rules = inputs.nativeTools
    ? ['Interaction rules:', '- Use the provided functions to run tools; their results come back to you.', '- Do not invent tools or skills not listed below.', '- If asked to perform unavailable actions, explain the limitation and propose the closest available tool.']
    : [
        'Interaction rules:',
        '- For tool execution in message flow, use `/tool <name> [args]`.',
        '- To run a tool, answer with that single line only; its result will be given back to you.',
        '- Do not invent tools or skills not listed below.',
        '- If asked to perform unavailable actions, explain the limitation and propose the closest available tool.',
      ];
  return [
    ...rules,
    '',
    'Available tools:',
    tools,
    '',
    'Installed skills:',
    skills,
    '',
    'Skill invocation note:',
    '- To run a skill from a conversation action, use `/tool skill_run <skill_name> [skill_args]`.',
    '- Legacy `/skills <skill_name> --args ...` commands may be mapped to `skill_run` when emitted as a single-line assistant action.',
  ].join('\n');
}

/** Same provider, model, mode, skill list (the same array) and tool objects, in the same order. */
function sameInputs(a: PromptInputs | undefined, b: PromptInputs): boolean {
  if (!a || a.provider !== b.provider || a.model !== b.model || a.nativeTools !== b.nativeTools || a.skills !== b.skills || !Array.isArray(b.skills)) return false;
  if (a.tools.length !== b.tools.length) return false;
  for (let i = 0; i < a.tools.length; i++) if (a.tools[i] !== b.tools[i]) return false;
  return true;
}
