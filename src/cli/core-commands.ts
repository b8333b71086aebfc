// CLI: doctor, run, repl, session, stats. Each action loads its work lazily.
import type { Command } from 'commander';
import { action } from './output.js';

export function registerCoreCommands(program: Command): void {
  program
    .command('doctor')
    .description('check configuration, provider, channels and directories (exit 1 on errors)')
    .option('--json', 'print the report as JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const { loadSettings, runDoctor, formatDoctor, doctorJson } = await import('../config/index.js');
        const report = await runDoctor(loadSettings());
        const exitCode = report.status === 'error' ? 1 : 0;
        return opts.json ? { json: doctorJson(report), exitCode } : { stdout: formatDoctor(report), exitCode };
      }),
    );

  program
    .command('run')
    .description('run one turn and print the answer')
    .option('--session <id>', 'session id', 'default')
    .requiredOption('--message <text>', 'the message to send')
    .action(
      action(async (opts: { session: string; message: string }) => {
        const { runOneTurn } = await import('./run-turn.js');
        return runOneTurn(opts.session, opts.message);
      }),
    );

  program
    .command('repl')
    .description("interactive conversation (Ctrl-D or 'exit' to leave)")
    .option('--session <id>', 'session id', 'default')
    .action(
      action(async (opts: { session: string }) => {
        const { runRepl } = await import('./repl.js');
        return runRepl(opts.session);
      }),
    );

  program
    .command('session')
    .description('print a session history as JSON')
    .option('--session <id>', 'session id', 'default')
    .action(
      action(async (opts: { session: string }) => {
        const { loadSettings } = await import('../config/index.js');
        const { SessionStore } = await import('../store/index.js');
        const s = loadSettings();
        // Streamed: the same pretty JSON array, in constant memory whatever the session's size.
        const { writeJsonArray } = await import('./stream-json.js');
        await writeJsonArray(process.stdout, new SessionStore(s.sessionsDir).stream(opts.session), (r) => ({ role: r.role, content: r.content, timestamp: r.timestamp }));
      }),
    );

  program
    .command('stats')
    .description('print telemetry, bus and prompt-cache counters as JSON')
    .action(
      action(async () => {
        const { statsJson } = await import('./stats.js');
        return { json: statsJson() };
      }),
    );
}
