// The one place that prints command results and errors, and maps errors to exit codes
// by class and code, never by message text (kernel's exitCodeOf: usage codes 2, everything
// else 1). Handlers return a CommandOutput instead of printing.
//
// Data commands return `json`. Where it goes: `--json` → JSON; otherwise a command with a
// text-first contract (doctor, run, tools list, monitor) prints its `text`; the original's JSON
// commands (stats, session, skills, pulse, codex, pairing) print JSON when stdout is not a
// terminal, so scripts keep working, and a readable view when a human is looking.
import type { Command } from 'commander';
import { AppError, errorChain, exitCodeOf, redactSecrets } from '../kernel/index.js';
import { painter } from './style.js';

export interface CommandOutput {
  /** Text for stdout (a trailing newline is added when missing). */
  stdout?: string;
  /** The result as data: printed as pretty JSON for scripts (see above). */
  json?: unknown;
  /** The readable view of `json` (default: a generic rendering of it); a function runs only when shown. */
  text?: string | (() => string | Promise<string>);
  /** `text` is the default even when piped (the original printed text here). */
  textFirst?: boolean;
  exitCode?: number;
}

export interface OutputMode {
  /** `--json` was given. */
  json: boolean;
  /** stdout is a terminal. */
  tty: boolean;
}

function write(s: string): void {
  if (s !== '') process.stdout.write(s.endsWith('\n') ? s : s + '\n');
}

export async function printOutput(out: CommandOutput | void, mode: OutputMode = { json: false, tty: process.stdout.isTTY === true }): Promise<number> {
  if (!out) return 0;
  if (out.json !== undefined) {
    const readable = !mode.json && (out.textFirst === true || mode.tty);
    if (!readable) process.stdout.write(JSON.stringify(out.json, null, 2) + '\n');
    else if (out.text !== undefined) write(typeof out.text === 'function' ? await out.text() : out.text);
    else {
      const { renderReadable } = await import('./readable.js');
      write(renderReadable(out.json, painter(process.stdout)));
    }
  }
  if (out.stdout !== undefined) write(out.stdout);
  return out.exitCode ?? 0;
}

/** Prints `Error: <message>` (and `hint: …`) on stderr; returns the exit code. */
export function printError(err: unknown): number {
  const message = err instanceof AppError ? err.message : errorChain(err);
  const paint = painter(process.stderr);
  process.stderr.write(`${paint('red', 'Error:')} ${redactSecrets(message)}\n`);
  if (err instanceof AppError && err.hint) process.stderr.write(`${paint('dim', 'hint:')} ${redactSecrets(err.hint)}\n`);
  return exitCodeOf(err);
}

/** Wraps a commander action: runs it, prints, and sets the exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<CommandOutput | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    // commander passes (...arguments, options, command): the last one is the command.
    const cmd = args[args.length - 1] as Partial<Command> | undefined;
    const json = typeof cmd?.opts === 'function' && cmd.opts().json === true;
    let code: number;
    try {
      code = await printOutput(await fn(...args), { json, tty: process.stdout.isTTY === true });
    } catch (err) {
      code = printError(err);
    }
    process.exitCode = code;
  };
}
