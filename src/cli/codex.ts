// CLI group: codex status|healthcheck|generate|drain-one|login (issue 5).
import type { Command } from 'commander';

export function registerCodexCommands(_program: Command): void {
  // Commands are declared here by the part that implements them.
}
