// Structured stderr events: one compact JSON line each, keys as given. stdout is reserved for
// command results, so nothing here ever writes to it.
//
// Info lines gathered during one turn of the event loop go out in one write at its end: under
// load (`serve`, two lines per message, stderr on a file as under systemd) a write per line cost
// a third of the throughput (bench/soak.bench.ts). Warnings and errors are written at once (after
// what is pending, in order), and whatever is pending is written when the process exits; a
// kill -9 can lose at most the info lines of the current loop turn.
import { writeSync } from 'node:fs';
import { redactSecrets } from '../kernel/index.js';
import { eventLevel, levelEnabled } from './log-level.js';
import type { EventCatalogue, EventName } from './event-catalogue.js';

export type EventFields = Record<string, unknown>;

/** Where event lines go; tests and `serve` may swap it (e.g. to capture lines). */
export type EventSink = (line: string) => void;

/** Pending bytes that trigger a write right away (below a pipe's 64 KiB buffer). */
const MAX_PENDING = 16 * 1024;
let pending = '';
let flushQueued = false;
let exitHook = false;

/** Writes every pending line to stderr now. */
export function flushEvents(): void {
  if (!pending) return;
  const buf = Buffer.from(pending);
  pending = '';
  let off = 0;
  for (let tries = 0; off < buf.length && tries < 200; ) {
    try {
      off += writeSync(2, buf, off);
    } catch (err) {
      // A full non-blocking pipe: wait a moment for the reader. Anything else (EPIPE: stderr
      // closed) drops the lines; an event must never crash the process.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      tries++;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

function stderrSink(line: string, urgent: boolean): void {
  pending += line;
  if (urgent || pending.length >= MAX_PENDING) return flushEvents();
  if (!exitHook) {
    exitHook = true;
    process.on('exit', flushEvents);
  }
  if (!flushQueued) {
    flushQueued = true;
    setImmediate(() => {
      flushQueued = false;
      flushEvents();
    }).unref();
  }
}

/** Set while emitEvent hands a warning or error line to the sink (a wrapping sink forwards to stderr). */
let urgentLine = false;
/** The default sink: stderr, info lines batched per loop turn, warnings and errors at once. */
const stderrEventSink: EventSink = (line) => stderrSink(line, urgentLine);
let sink: EventSink = stderrEventSink;

/** Replaces the sink; returns the previous one. Pending stderr lines go out first. */
export function setEventSink(next: EventSink): EventSink {
  flushEvents();
  const prev = sink;
  sink = next;
  return prev;
}

/** Writes `{"event":name, ...fields}` as one line to stderr, with secrets redacted. Names and shapes: event-catalogue.ts. */
export function emitEvent<N extends EventName>(event: N, fields: EventCatalogue[N]): void {
  const level = eventLevel(event, fields as EventFields);
  if (!levelEnabled(level)) return; // below RUSTY_PINCH_LOG_LEVEL
  // `{"event":…,` then the fields' own JSON: the same line as JSON.stringify({ event, ...fields })
  // without copying every field into a new object per line.
  const body = JSON.stringify(fields);
  const line = body === '{}' || Object.hasOwn(fields as object, 'event') ? JSON.stringify({ event, ...fields }) : `{"event":${JSON.stringify(event)},${body.slice(1)}`;
  const text = redactSecrets(line) + '\n';
  urgentLine = level !== 'info';
  try {
    sink(text);
  } finally {
    urgentLine = false;
  }
}

/** A warning that is not tied to a specific subsystem event. */
export function emitWarning(message: string, fields: EventFields = {}): void {
  emitEvent('warning', { message, ...fields });
}

/** The same object with its keys in sorted order (the original printed `turn` lines so). */
export function sortedKeys<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as T;
}
