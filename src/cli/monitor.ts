// CLI group: monitor (issue 3). Live view of a rusty-pinch process, the host and storage, or
// one snapshot with --once; --json for machines. The work is imported lazily.
import { InvalidArgumentError, type Command } from 'commander';
import { action } from './output.js';
import { positiveInt } from './parse-flags.js';
import { AppError } from '../kernel/index.js';

interface MonitorFlags {
  pid?: number;
  processMatch: string;
  intervalMs: number;
  storageRefreshTicks: number;
  once?: boolean;
  json?: boolean;
}

function matchText(value: string): string {
  const t = value.trim();
  if (!t || t.includes('/') || t.includes('\0')) throw new InvalidArgumentError('expected an executable or script name (no slashes), e.g. rusty-pinch');
  return t;
}

export function registerMonitorCommand(program: Command): void {
  program
    .command('monitor')
    .description('live process/host/storage monitor (q or Ctrl+C to exit); --once for one snapshot')
    .option('--pid <n>', 'monitor a fixed process id', positiveInt)
    .option('--process-match <text>', 'discover the process whose executable or script is named <text>', matchText, 'rusty-pinch')
    .option('--interval-ms <n>', 'refresh interval in milliseconds', positiveInt, 1000)
    .option('--storage-refresh-ticks <n>', 'refresh directory sizes every N ticks', positiveInt, 10)
    .option('--once', 'print one snapshot and exit (exit 1 and only an error when no process is found)')
    .option('--json', 'JSON output (one object with --once, one line per tick live)')
    .action(
      action(async (flags: MonitorFlags) => {
        const { loadSettings } = await import('../config/index.js');
        const { monitorOnce, runLive } = await import('../monitor/index.js');
        const s = loadSettings();
        const cfg = {
          pid: flags.pid,
          match: flags.processMatch,
          intervalMs: flags.intervalMs,
          storageRefreshTicks: flags.storageRefreshTicks,
          dataDir: s.dataDir,
          workspace: s.workspace,
          telemetryFile: s.telemetryFile,
          provider: s.provider,
          model: s.model,
        };
        if (!flags.once) return { exitCode: await runLive(cfg, { json: flags.json === true }) };
        const r = await monitorOnce(cfg);
        if (!r.found) {
          const what = flags.pid !== undefined ? `process ${flags.pid} not found` : r.snapshot.process_missing ?? `no '${flags.processMatch}' process found`;
          // The error alone: a snapshot of nothing would read like a result.
          throw new AppError('not_found', what, { hint: flags.pid !== undefined ? 'check the pid (it must be running on this host)' : "start one with 'rusty-pinch serve', or pass --pid <n>" });
        }
        return { json: r.json, text: r.text, textFirst: true };
      }),
    );
}
