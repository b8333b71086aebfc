// CLI group: channels telegram|whatsapp (issue 3).
import type { Command } from 'commander';

export function registerChannelCommands(_program: Command): void {
  // Commands are declared here by the part that implements them.
}
