// CLI: doctor, run, repl, session, stats. Each action loads its work lazily.
import type { Command } from 'commander';
import { action } from './output.js';
import { checkSessionId, nonEmpty } from './parse-flags.js';

export function registerCoreCommands(program: Command): void {
  program
    .command('doctor')
    .description('check configuration, provider, channels and directories (exit 1 on errors)')
    .option('--json', 'print the report as JSON')
    .action(
      action(async () => {
        const { loadSettings, runDoctor, formatDoctor, doctorJson } = await import('../config/index.js');
        const settings = loadSettings();
        const report = await runDoctor(settings);
        // The evolution policy (reference §4): each gate's value and the combinations that weaken it.
        const { evolutionDoctor, evolutionSettings } = await import('../evolution/index.js');
        const evo = evolutionDoctor(evolutionSettings(settings.env, settings.workspace), settings.env);
        report.fields.push(...evo.fields);
        report.checks.push(...evo.checks);
        if (evo.checks.some((c) => c.level === 'error')) report.status = 'error';
        else if (evo.checks.length > 0 && report.status === 'ok') report.status = 'warning';
        const exitCode = report.status === 'error' ? 1 : 0;
        const { doctorColours } = await import('./views.js');
        return { json: doctorJson(report), text: doctorColours(formatDoctor(report)), textFirst: true, exitCode };
      }),
    );

  program
    .command('run')
    .description('run one turn and print the answer')
    .option('--session <id>', 'session id', 'default')
    .requiredOption('--message <text>', 'the message to send (not blank)', nonEmpty)
    .action(
      action(async (opts: { session: string; message: string }) => {
        await checkSessionId(opts.session);
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
        await checkSessionId(opts.session);
        const { runRepl } = await import('./repl.js');
        return runRepl(opts.session);
      }),
    );

  program
    .command('session')
    .description('print a session history (JSON when piped or with --json)')
    .option('--session <id>', 'session id', 'default')
    .action(
      action(async (opts: { session: string; json?: boolean }) => {
        await checkSessionId(opts.session);
        const { loadSettings } = await import('../config/index.js');
        const { SessionStore } = await import('../store/index.js');
        const s = loadSettings();
        const store = new SessionStore(s.sessionsDir);
        if (opts.json === true || process.stdout.isTTY !== true) {
          // Streamed: the same pretty JSON array, in constant memory whatever the session's size.
          const { writeJsonArray } = await import('./stream-json.js');
          await writeJsonArray(process.stdout, store.stream(opts.session), (r) => ({ role: r.role, content: r.content, timestamp: r.timestamp }));
          return;
        }
        const json = store.all(opts.session).map((r) => ({ role: r.role, content: r.content, timestamp: r.timestamp }));
        return { json, text: async () => (await import('./views.js')).sessionText(json) };
      }),
    );

  program
    .command('stats')
    .description('print telemetry, bus and prompt-cache counters (JSON when piped or with --json)')
    .action(
      action(async () => {
        const { statsJson } = await import('./stats.js');
        const json = statsJson();
        return { json, text: async () => (await import('./views.js')).statsText(json) };
      }),
    );
}
