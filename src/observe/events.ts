// Structured stderr events: one compact JSON line each, keys as given. stdout is reserved for
// command results, so nothing here ever writes to it.
import { writeSync } from 'node:fs';
import { redactSecrets } from '../kernel/index.js';
import { eventEnabled } from './log-level.js';

export type EventFields = Record<string, unknown>;

/** Where event lines go; tests and `serve` may swap it (e.g. to capture lines). */
export type EventSink = (line: string) => void;

let sink: EventSink = (line) => {
  try {
    writeSync(2, line);
  } catch {
    // stderr closed (EPIPE): an event must never crash the process.
  }
};

export function setEventSink(next: EventSink): EventSink {
  const prev = sink;
  sink = next;
  return prev;
}

/** Writes `{"event":name, ...fields}` as one line to stderr, with secrets redacted. */
export function emitEvent(event: string, fields: EventFields = {}): void {
  if (!eventEnabled(event, fields)) return; // below RUSTY_PINCH_LOG_LEVEL
  sink(redactSecrets(JSON.stringify({ event, ...fields })) + '\n');
}

/** A warning that is not tied to a specific subsystem event. */
export function emitWarning(message: string, fields: EventFields = {}): void {
  emitEvent('warning', { message, ...fields });
}
