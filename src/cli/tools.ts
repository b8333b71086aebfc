// CLI: `tools list` and `tools run` (the same turn as `run --message "/tool <name> <args>"`).
import type { Command } from 'commander';
import { action } from './output.js';
import { checkSessionId } from './parse-flags.js';

export function registerToolCommands(program: Command): void {
  const tools = program.command('tools').description('deterministic /tool commands');
  tools
    .command('list')
    .description('list the registered tools')
    .action(
      action(async () => {
        const { listTools, toolsText } = await import('./tools-list.js');
        const list = await listTools();
        return { json: list, text: toolsText(list), textFirst: true };
      }),
    );
  tools
    .command('run')
    .description('run one tool as a turn')
    .option('--session <id>', 'session id', 'default')
    .requiredOption('--name <tool>', "tool name (see 'tools list')")
    .option('--args <text>', 'tool arguments', '')
    .action(
      action(async (opts: { session: string; name: string; args: string }) => {
        await checkSessionId(opts.session);
        const { runOneTurn } = await import('./run-turn.js');
        const name = opts.name.trim();
        const args = opts.args.trim();
        return runOneTurn(opts.session, args ? `/tool ${name} ${args}` : `/tool ${name}`, { tool: name });
      }),
    );
}
