// The OTLP export's door: the exporter module (and through it the OpenTelemetry SDK) is
// imported only when this is called, i.e. only when an endpoint is configured.
import type { OtlpExport, OtlpOptions } from './otlp.js';

export async function startOtlpExport(options: OtlpOptions): Promise<OtlpExport> {
  return (await import('./otlp.js')).startOtlpExport(options);
}
