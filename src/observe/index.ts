// Observability face: stderr events (metrics and the ops endpoint join here).
export { emitEvent, emitWarning, setEventSink, sortedKeys, type EventFields, type EventSink } from './events.js';
export type { EventCatalogue, EventName } from './event-catalogue.js';
export { createMetrics, type ServeMetrics, type MetricSources, type ChannelSample, type TurnSample } from './metrics.js';
export { startOpsServer, type OpsServer, type OpsServerOptions, type Readiness } from './ops-server.js';
export { startOtlpExport } from './otlp-loader.js';
export type { OtlpExport, OtlpOptions, OtlpStats } from './otlp.js';
