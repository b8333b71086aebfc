// Evolution failures: a validation-class AppError (exit 1, `Error: <message>`), with a stable code.
import { AppError } from '../kernel/index.js';

export class EvolutionError extends AppError {
  constructor(message: string, options: { hint?: string; code?: string } = {}) {
    super(options.code ?? 'evolution', message, options.hint ? { hint: options.hint } : {});
    this.name = 'EvolutionError';
  }
}
