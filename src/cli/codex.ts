// CLI group: codex status|healthcheck|generate|drain-one|login (issue 5). Each action opens the
// pool over the workspace state, so it sees (and updates) what `serve` and other calls used.
import type { Command } from 'commander';
import { action, type CommandOutput } from './output.js';

async function withPool(fn: (pool: import('../brain/index.js').CodexPool) => Promise<unknown>): Promise<CommandOutput> {
  const { loadSettings } = await import('../config/index.js');
  const { openDeliveringCodexPool } = await import('../app/codex.js');
  const settings = loadSettings();
  const pool = await openDeliveringCodexPool(settings);
  if (!pool.enabled) {
    const { ConfigError } = await import('../kernel/index.js');
    throw new ConfigError('codex integration is disabled', { hint: 'Set RUSTY_PINCH_CODEX_ENABLED=true.' });
  }
  return { json: await fn(pool) };
}

export function registerCodexCommands(program: Command): void {
  const codex = program.command('codex').description('Codex account pool: status, health checks, queued work, login');

  codex
    .command('status')
    .description('accounts, quota used in the current window, queue depth and queue mode')
    .action(action(() => withPool((pool) => pool.status())));

  codex
    .command('healthcheck')
    .description('check every account now (CLI answers, account logged in)')
    .action(action(() => withPool((pool) => pool.healthcheck(true))));

  codex
    .command('generate')
    .description('run a prompt on the pool, or queue it when quota or health do not allow it now')
    .requiredOption('--prompt <text>', 'the prompt')
    .option('--purpose <purpose>', 'what the task is for (kept with a queued task)', 'general')
    .action(action((opts: { prompt: string; purpose: string }) => withPool((pool) => pool.generate({ prompt: opts.prompt, purpose: opts.purpose }))));

  codex
    .command('drain-one')
    .description('run the oldest queued task once, if quota and health allow')
    .action(action(() => withPool((pool) => pool.drainOne())));

  codex
    .command('login')
    .description("run the Codex CLI's login inside one account's own CODEX_HOME")
    .requiredOption('--account <id>', 'account id from RUSTY_PINCH_CODEX_ACCOUNTS')
    .option('--with-api-key', "log in with the key from the account's variable (sent on stdin)")
    .action(
      action(async (opts: { account: string; withApiKey?: boolean }) => {
        const { loadSettings } = await import('../config/index.js');
        const { loginAccount } = await import('../brain/index.js');
        const settings = loadSettings();
        if (!settings.codex.enabled) {
          const { ConfigError } = await import('../kernel/index.js');
          throw new ConfigError('codex integration is disabled', { hint: 'Set RUSTY_PINCH_CODEX_ENABLED=true.' });
        }
        const result = await loginAccount(settings, opts.account, { withApiKey: opts.withApiKey === true });
        return { json: result, exitCode: result.status === 'ok' ? 0 : 1 };
      }),
    );
}
