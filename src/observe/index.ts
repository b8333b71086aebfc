// Observability face: stderr events (metrics and the ops endpoint join here).
export { LOG_LEVELS, eventLevel, parseLogLevel, setLogLevel, logLevel, type LogLevel } from './log-level.js';
export { emitEvent, emitWarning, flushEvents, setEventSink, sortedKeys, type EventFields, type EventSink } from './events.js';
export type { EventCatalogue, EventName } from './event-catalogue.js';
export { createMetrics, type ServeMetrics, type MetricSources, type ChannelSample, type TurnSample } from './metrics.js';
export { startOpsServer, type OpsServer, type OpsServerOptions, type Readiness } from './ops-server.js';
export { startOtlpExport } from './otlp-loader.js';
export type { OtlpExport, OtlpOptions, OtlpStats } from './otlp.js';
