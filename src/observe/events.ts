// Structured stderr events: one compact JSON line each, keys as given. stdout is reserved for
// command results, so nothing here ever writes to it.
import { writeSync } from 'node:fs';
import { redactSecrets } from '../kernel/index.js';
import { eventEnabled } from './log-level.js';
import type { EventCatalogue, EventName } from './event-catalogue.js';

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

/** Writes `{"event":name, ...fields}` as one line to stderr, with secrets redacted. Names and shapes: event-catalogue.ts. */
export function emitEvent<N extends EventName>(event: N, fields: EventCatalogue[N]): void {
  if (!eventEnabled(event, fields as EventFields)) return; // below RUSTY_PINCH_LOG_LEVEL
  // `{"event":…,` then the fields' own JSON: the same line as JSON.stringify({ event, ...fields })
  // without copying every field into a new object per line.
  const body = JSON.stringify(fields);
  const line = body === '{}' || Object.hasOwn(fields as object, 'event') ? JSON.stringify({ event, ...fields }) : `{"event":${JSON.stringify(event)},${body.slice(1)}`;
  sink(redactSecrets(line) + '\n');
}

/** A warning that is not tied to a specific subsystem event. */
export function emitWarning(message: string, fields: EventFields = {}): void {
  emitEvent('warning', { message, ...fields });
}

/** The same object with its keys in sorted order (the original printed `turn` lines so). */
export function sortedKeys<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as T;
}
