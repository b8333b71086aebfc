// Which stderr event lines are written: RUSTY_PINCH_LOG_LEVEL (or the CLI's --quiet) sets the
// threshold. An event's level follows from its name, so every emitter is covered without a
// level argument: names with `error`/`fail` (or a `status: "error"` field, like a failed turn)
// are errors, those that report something skipped, dropped, retried or corrupt are warnings,
// the rest (turns, starts, stops) are info.
export const LOG_LEVELS = ['off', 'error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type EventLevel = 'error' | 'warn' | 'info';

const RANK: Record<LogLevel, number> = { off: 0, error: 1, warn: 2, info: 3, debug: 4 };
// Read from the environment on the first event (the CLI puts `--quiet` and the .env value there
// before any work starts), so a command that emits nothing never loads this folder.
let threshold: LogLevel | undefined;

export function eventLevel(event: string, fields?: Record<string, unknown>): EventLevel {
  if (/error|fail/.test(event)) return 'error';
  // A record of something that failed (a `turn` with status error) counts as an error too.
  if (fields?.status === 'error') return 'error';
  if (/warn|corrupt|dropped|stall|skipped|fallback|discard|retry|duplicate|recovered|no_channels/.test(event)) return 'warn';
  return 'info';
}

/** One of LOG_LEVELS (any case, trimmed), else undefined. */
export function parseLogLevel(value: string | undefined): LogLevel | undefined {
  const v = value?.trim().toLowerCase();
  if (!v) return undefined;
  return (LOG_LEVELS as readonly string[]).includes(v) ? (v as LogLevel) : undefined;
}

export function setLogLevel(level: LogLevel): LogLevel {
  const prev = logLevel();
  threshold = level;
  return prev;
}

/** The threshold: set explicitly, else RUSTY_PINCH_LOG_LEVEL (garbage → `info`; doctor names it). */
export function logLevel(): LogLevel {
  return (threshold ??= parseLogLevel(process.env.RUSTY_PINCH_LOG_LEVEL) ?? 'info');
}

export function eventEnabled(event: string, fields?: Record<string, unknown>): boolean {
  return levelEnabled(eventLevel(event, fields));
}

export function levelEnabled(level: EventLevel): boolean {
  return RANK[level] <= RANK[logLevel()];
}
