// CLI entry: the commander tree. Each group lives in its own module and imports its work
// lazily inside the action, so `--help` and `stats` stay fast.
import { Command, CommanderError } from 'commander';
import { registerCoreCommands } from './core-commands.js';
import { registerToolCommands } from './tools.js';
import { registerSkillCommands } from './skills.js';
import { registerChannelCommands } from './channels.js';
import { registerServeCommand } from './serve.js';
import { registerMonitorCommand } from './monitor.js';
import { registerCodexCommands } from './codex.js';
import { registerPulseCommands } from './pulse.js';
import { registerPairingCommands } from './pairing.js';
import { registerEvolutionCommands } from './evolution.js';
import { VERSION } from './version.js';

export function buildProgram(): Command {
  const program = new Command('rusty-pinch')
    .description('Rusty Pinch: a lean personal AI assistant runtime')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .exitOverride();
  registerCoreCommands(program);
  registerToolCommands(program);
  registerSkillCommands(program);
  registerChannelCommands(program);
  registerServeCommand(program);
  registerMonitorCommand(program);
  registerCodexCommands(program);
  registerPulseCommands(program);
  registerPairingCommands(program);
  registerEvolutionCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  // No command → doctor, as in the original.
  const args = argv.slice(2).length === 0 ? [...argv, 'doctor'] : argv;
  try {
    await program.parseAsync(args);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; usage errors exit 2 (commander already printed the message).
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    throw err;
  }
}

await main(process.argv);
