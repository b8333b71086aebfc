// Observability face: stderr events (metrics and the ops endpoint join here).
export { emitEvent, emitWarning, setEventSink, type EventFields, type EventSink } from './events.js';
