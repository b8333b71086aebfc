// Sorted tool registry: guardrails first, then the tool; every failure names the tool.
import { AppError, ValidationError, errorChain } from '../kernel/index.js';
import { checkToolInput, trimUnicode } from './guardrails.js';
import type { Tool, ToolContext } from './types.js';
import type { ToolSpec } from '../providers/index.js';

export class ToolRegistry {
  private readonly tools = new Map<string, Tool>();

  register(tool: Tool): void {
    if (!/^[a-z0-9_-]{1,64}$/.test(tool.name)) throw new ValidationError(`invalid tool name '${tool.name}'`);
    this.tools.set(tool.name, tool);
  }

  get(name: string): Tool | undefined {
    return this.tools.get(name);
  }

  /** Tools in name order. */
  list(): Tool[] {
    return [...this.tools.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  names(): string[] {
    return this.list().map((t) => t.name);
  }

  /** Runs a tool after the guardrails. Errors are ValidationError (input) or AppError('tool'). */
  async execute(name: string, args: string, ctx: ToolContext): Promise<string> {
    const n = trimUnicode(name);
    checkToolInput(n, args);
    const tool = this.tools.get(n);
    if (!tool) throw new ValidationError(`unknown tool '${n}'. available: ${this.names().join(', ')}`);
    try {
      return await tool.run(args, ctx);
    } catch (err) {
      throw new AppError('tool', `tool '${n}' execution failed: ${errorChain(err)}`, { cause: err });
    }
  }

  /** Function specs for native tool calling. */
  specs(): ToolSpec[] {
    return this.list().map((t) => ({
      name: t.name,
      description: `${t.description} (usage: ${t.usage})`,
      parameters: t.parameters ?? {
        type: 'object',
        properties: { args: { type: 'string', description: `Arguments as typed after '/tool ${t.name}'. Empty when none.` } },
        required: [],
        additionalProperties: false,
      },
    }));
  }
}
