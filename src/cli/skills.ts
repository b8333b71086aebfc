// CLI group: skills list|dry-run|run (issue 4).
import type { Command } from 'commander';

export function registerSkillCommands(_program: Command): void {
  // Commands are declared here by the part that implements them.
}
