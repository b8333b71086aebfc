// Error classes by failure site. Every error carries a stable code and an optional hint; the
// CLI prints `message` and `hint`, chat users never see either (see channels' friendly text).
import { redactSecrets } from './redact.js';

export interface AppErrorOptions {
  hint?: string;
  cause?: unknown;
}

/** Base error: `code` is stable and machine-readable, `hint` says how to fix it. */
export class AppError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(redactSecrets(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** Bad configuration or bad input from the operator (exit 1, or 2 for usage). */
export class ConfigError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super('config', message, options);
  }
}

/** A command-line usage problem: exit code 2. */
export class UsageError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super('usage', message, options);
  }
}

/** Input that a guardrail refused (tool names, session ids, skill names…). */
export class ValidationError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super('invalid', message, options);
  }
}

/** The remote side answered and said no (HTTP status, retry-after), like grammY's GrammyError. */
export class RemoteError extends AppError {
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  readonly transient: boolean;
  constructor(message: string, status: number, transient: boolean, retryAfterMs?: number, options: AppErrorOptions = {}) {
    super('remote', message, options);
    this.status = status;
    this.transient = transient;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The network failed before an answer arrived (refused, reset, DNS, timeout). Always transient. */
export class NetworkError extends AppError {
  readonly timedOut: boolean;
  constructor(message: string, timedOut = false, options: AppErrorOptions = {}) {
    super('network', message, options);
    this.timedOut = timedOut;
  }
}

/** A turn failed; the message is prefixed with the request id as the original did. */
export class TurnError extends AppError {
  readonly requestId: string;
  constructor(requestId: string, message: string, options: AppErrorOptions = {}) {
    super('turn', `request_id=${requestId}: ${message}`, options);
    this.requestId = requestId;
  }
}

/** Error codes that mean "the command was called wrongly": the CLI exits 2 for them, 1 for the rest. */
export const USAGE_ERROR_CODES: ReadonlySet<string> = new Set(['usage', 'pulse_bad_input']);

/** The CLI's exit code for a thrown value, by class and code (never by message text). */
export function exitCodeOf(err: unknown): 1 | 2 {
  return err instanceof AppError && USAGE_ERROR_CODES.has(err.code) ? 2 : 1;
}

/** Message of any thrown value, with its cause chain joined by ": " (like anyhow's `{:#}`). */
export function errorChain(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 8; depth++) {
    const msg = cur instanceof Error ? cur.message : String(cur);
    if (msg && !parts.some((p) => p.includes(msg))) parts.push(msg);
    cur = cur instanceof Error ? (cur as Error & { cause?: unknown }).cause : undefined;
  }
  return redactSecrets(parts.join(': '));
}
