// CLI group `evolution`: the self-update commands (evolution-update.ts); skill generation adds
// its commands to the same group.
import type { Command } from 'commander';
import { registerEvolutionUpdateCommands } from './evolution-update.js';

export function registerEvolutionCommands(program: Command): void {
  const evolution = program.command('evolution').description('self-update (blue/green slots, audit, lock, failure circuit)');
  registerEvolutionUpdateCommands(evolution);
}
