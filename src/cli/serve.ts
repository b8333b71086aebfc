// CLI group: serve (issue 3).
import type { Command } from 'commander';

export function registerServeCommand(_program: Command): void {
  // Commands are declared here by the part that implements them.
}
