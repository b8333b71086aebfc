// CLI group: channels telegram|whatsapp — run one channel in the foreground until SIGINT/SIGTERM
// or `--max-messages N` turns (issue 3). Events go to stderr; nothing is printed on stdout.
import type { Command } from 'commander';
import { action } from './output.js';
import { positiveInt } from './parse-flags.js';

export function registerChannelCommands(program: Command): void {
  const channels = program.command('channels').description('run a chat channel in the foreground (Ctrl-C or SIGTERM stops gracefully)');
  for (const name of ['telegram', 'whatsapp'] as const) {
    channels
      .command(name)
      .description(name === 'telegram' ? 'answer Telegram messages (Bot API long polling)' : 'answer WhatsApp messages through the bridge (websocket)')
      .option('--max-messages <n>', 'stop after N answered messages', positiveInt)
      .action(
        action(async (opts: { maxMessages?: number }) => {
          const { runChannelForeground } = await import('../app/channel-host.js');
          await runChannelForeground(name, { maxMessages: opts.maxMessages });
          return { exitCode: 0 };
        }),
      );
  }
}
