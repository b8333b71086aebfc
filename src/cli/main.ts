// CLI entry: the commander tree. Each group lives in its own module and imports its work
// lazily inside the action, so `--help` and `stats` stay fast.
import { Command, CommanderError, type Option } from 'commander';
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
import { registerCompletionCommand, walk } from './completion.js';
import { registerEvolutionSkillCommands } from './evolution-skills.js';
import { VERSION } from './version.js';
import { painter } from './style.js';

/** Commands that print no data (or JSON already): no `--json` flag. */
const NO_DATA = new Set(['repl', 'serve', 'channels telegram', 'channels whatsapp', 'skills run', 'completion']);

/** `--json` on every command that prints data and does not define it itself. */
function addJsonFlags(program: Command): void {
  for (const { cmd, path } of walk(program)) {
    if (cmd.commands.length > 0 || NO_DATA.has(path.join(' ')) || cmd.options.some((o) => o.long === '--json')) continue;
    cmd.option('--json', 'print the result as JSON (for scripts)');
  }
}

/**
 * commander reports a missing required option before an unknown one (`run --bogus` said
 * "--message not specified"). Required options are checked here after commander has rejected
 * unknown options and bad values, so the first real mistake is the one reported.
 */
function deferRequiredOptions(program: Command): void {
  const required = new Map<Command, Option[]>();
  for (const { cmd } of walk(program)) {
    const opts = cmd.options.filter((o) => o.mandatory);
    for (const o of opts) o.mandatory = false;
    if (opts.length) required.set(cmd, opts);
  }
  program.hook('preAction', (_root, actionCommand) => {
    for (const o of required.get(actionCommand) ?? []) {
      if (actionCommand.getOptionValue(o.attributeName()) === undefined) {
        actionCommand.error(`error: required option '${o.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue', exitCode: 2 });
      }
    }
  });
}

/**
 * Event lines: `--quiet` → errors only; else RUSTY_PINCH_LOG_LEVEL from the environment or the
 * .env file. Handed to observe/ through the environment (read at the first event), so commands
 * that emit nothing, like `stats`, do not load it.
 */
async function applyLogLevel(quiet: boolean): Promise<void> {
  if (quiet) {
    process.env.RUSTY_PINCH_LOG_LEVEL = 'error';
    return;
  }
  if (process.env.RUSTY_PINCH_LOG_LEVEL !== undefined) return;
  try {
    const { loadEnv } = await import('../config/index.js');
    const value = loadEnv().env.RUSTY_PINCH_LOG_LEVEL;
    if (value !== undefined) process.env.RUSTY_PINCH_LOG_LEVEL = value;
  } catch {
    // An unreadable env file is the command's to report.
  }
}

export function buildProgram(): Command {
  const program = new Command('rusty-pinch')
    .description('Rusty Pinch: a lean personal AI assistant runtime')
    .version(VERSION, '-V, --version', 'print the version')
    .option('-q, --quiet', 'write only error events on stderr (see RUSTY_PINCH_LOG_LEVEL)')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: (s, write) => write(s.replace(/^error:/, painter(process.stderr)('red', 'error:'))) })
    .addHelpText(
      'after',
      '\nOutput: data commands print JSON when stdout is not a terminal or with --json, a readable view at a terminal.\n' +
        'Exit codes: 0 ok, 1 failure (one Error: line on stderr), 2 usage error.\n' +
        'Environment: RUSTY_PINCH_LOG_LEVEL=off|error|warn|info|debug (stderr events), NO_COLOR / FORCE_COLOR.\n' +
        'Shell completion: rusty-pinch completion bash|zsh|fish (see completion --help).',
    )
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
  registerEvolutionSkillCommands(program);
  registerCompletionCommand(program);
  addJsonFlags(program);
  deferRequiredOptions(program);
  program.hook('preAction', async (root) => applyLogLevel(root.opts().quiet === true));
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
