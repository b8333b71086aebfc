// CLI group: pairing list|approve|revoke (issue 3).
import type { Command } from 'commander';

export function registerPairingCommands(_program: Command): void {
  // Commands are declared here by the part that implements them.
}
