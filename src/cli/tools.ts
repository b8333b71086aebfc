// CLI: `tools list` and `tools run` (the same turn as `run --message "/tool <name> <args>"`).
import type { Command } from 'commander';
import { action } from './output.js';

export function registerToolCommands(program: Command): void {
  const tools = program.command('tools').description('deterministic /tool commands');
  tools
    .command('list')
    .description('list the registered tools')
    .action(
      action(async () => {
        const { listToolsText } = await import('./tools-list.js');
        return { stdout: await listToolsText() };
      }),
    );
  tools
    .command('run')
    .description('run one tool as a turn')
    .option('--session <id>', 'session id', 'default')
    .requiredOption('--name <tool>', 'tool name')
    .option('--args <text>', 'tool arguments', '')
    .action(
      action(async (opts: { session: string; name: string; args: string }) => {
        const { runOneTurn } = await import('./run-turn.js');
        const name = opts.name.trim();
        const args = opts.args.trim();
        return runOneTurn(opts.session, args ? `/tool ${name} ${args}` : `/tool ${name}`);
      }),
    );
}
