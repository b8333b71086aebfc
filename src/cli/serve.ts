// CLI: `serve`, the long-running worker (enabled channels, Pulse, Codex drainer, ops endpoint).
// SIGINT/SIGTERM drain and exit 0; the work is imported lazily.
import type { Command } from 'commander';
import { action } from './output.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run every enabled channel, the scheduler and the ops endpoint (/healthz, /readyz, /metrics on RUSTY_PINCH_OPS_ADDR) until SIGINT/SIGTERM')
    .action(
      action(async () => {
        const { runServe } = await import('../app/serve.js');
        const exitCode = await runServe();
        // Everything was stopped; if a library still holds a handle, do not hang as PID 1.
        setTimeout(() => process.exit(process.exitCode ?? exitCode), 3000).unref();
        return { exitCode };
      }),
    );
}
