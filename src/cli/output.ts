// The one place that prints command results and errors, and maps errors to exit codes
// by class and code, never by message text (kernel's exitCodeOf: usage codes 2, everything
// else 1). Handlers return a CommandOutput instead of printing.
import { AppError, errorChain, exitCodeOf, redactSecrets } from '../kernel/index.js';

export interface CommandOutput {
  /** Text for stdout (a trailing newline is added when missing). */
  stdout?: string;
  /** Printed as pretty JSON on stdout. */
  json?: unknown;
  exitCode?: number;
}

export function printOutput(out: CommandOutput | void): number {
  if (!out) return 0;
  if (out.json !== undefined) process.stdout.write(JSON.stringify(out.json, null, 2) + '\n');
  if (out.stdout !== undefined && out.stdout !== '') process.stdout.write(out.stdout.endsWith('\n') ? out.stdout : out.stdout + '\n');
  return out.exitCode ?? 0;
}

/** Prints `Error: <message>` (and `hint: …`) on stderr; returns the exit code. */
export function printError(err: unknown): number {
  const message = err instanceof AppError ? err.message : errorChain(err);
  process.stderr.write(`Error: ${redactSecrets(message)}\n`);
  if (err instanceof AppError && err.hint) process.stderr.write(`hint: ${err.hint}\n`);
  return exitCodeOf(err);
}

/** Wraps a commander action: runs it, prints, and sets the exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<CommandOutput | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    let code: number;
    try {
      code = printOutput(await fn(...args));
    } catch (err) {
      code = printError(err);
    }
    process.exitCode = code;
  };
}
