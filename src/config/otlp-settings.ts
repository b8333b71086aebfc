// Optional OTLP export of turn traces and metrics. Off unless an endpoint is set (the original
// always exported to localhost:4317 over gRPC; this one speaks OTLP/HTTP, usually :4318, and
// only when asked). The OpenTelemetry packages are optional dependencies, loaded only then.
import type { EnvReader } from './env-reader.js';

export interface OtlpSettings {
  /** Base URL of the collector's OTLP/HTTP receiver (…/v1/traces and …/v1/metrics are added). */
  endpoint: string | undefined;
  /** Where the endpoint came from (for doctor). */
  endpointFrom: string | undefined;
  serviceName: string;
  metricIntervalSecs: number;
  /** Per export request, retries included (OTEL_EXPORTER_OTLP_TIMEOUT, ms). It also bounds how
   * long a one-shot command may linger at exit when the collector is unreachable. */
  exportTimeoutMs: number;
}

export const OTLP_PACKAGES = ['@opentelemetry/resources', '@opentelemetry/sdk-trace', '@opentelemetry/sdk-metrics', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/exporter-metrics-otlp-http'] as const;

export function loadOtlpSettings(r: EnvReader): OtlpSettings {
  let endpoint: string | undefined;
  let endpointFrom: string | undefined;
  for (const name of ['RUSTY_PINCH_OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT']) {
    const v = r.str(name);
    if (v === undefined) continue;
    let url: URL | undefined;
    try {
      url = new URL(v);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol)) {
      r.issue(name, v, 'expected an http(s) URL of an OTLP/HTTP receiver (e.g. http://127.0.0.1:4318)', 'export off');
      break;
    }
    endpoint = v.replace(/\/+$/, '');
    endpointFrom = name;
    break;
  }
  return {
    endpoint,
    endpointFrom,
    serviceName: r.str('OTEL_SERVICE_NAME') ?? 'rusty-pinch',
    metricIntervalSecs: r.int('OTEL_METRIC_EXPORT_INTERVAL_SECS', 15, { min: 1, max: 86_400 }),
    exportTimeoutMs: r.int('OTEL_EXPORTER_OTLP_TIMEOUT', 2000, { min: 100, max: 60_000 }),
  };
}

/** Whether the optional OpenTelemetry packages can be imported from this install. */
export function otlpPackagesMissing(resolve: (s: string) => unknown = (s) => import.meta.resolve(s)): string[] {
  return OTLP_PACKAGES.filter((p) => {
    try {
      resolve(p);
      return false;
    } catch {
      return true;
    }
  });
}
