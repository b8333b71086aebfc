// CLI group: pulse … (issue 5).
import type { Command } from 'commander';

export function registerPulseCommands(_program: Command): void {
  // Commands are declared here by the part that implements them.
}
