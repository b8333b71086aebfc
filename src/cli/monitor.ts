// CLI group: monitor (issue 3).
import type { Command } from 'commander';

export function registerMonitorCommand(_program: Command): void {
  // Commands are declared here by the part that implements them.
}
