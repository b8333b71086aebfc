// Hooks the optional OTLP export onto the runtime's finished turns. Nothing happens (and
// nothing is loaded) unless an endpoint is configured; a missing SDK or a bad endpoint
// degrades to a warning event, never a failed start.
import type { Settings } from '../config/index.js';
import { VERSION, errorChain } from '../kernel/index.js';
import { emitEvent, startOtlpExport } from '../observe/index.js';
import type { Runtime } from '../core/index.js';

/** Returns the stop function (flush bounded to 2 s), or undefined when export is off. */
export async function attachOtlp(settings: Settings, runtime: Runtime): Promise<(() => Promise<void>) | undefined> {
  const o = settings.otlp;
  if (!o.endpoint) return undefined;
  try {
    const exp = await startOtlpExport({ endpoint: o.endpoint, serviceName: o.serviceName, serviceVersion: VERSION, metricIntervalMs: o.metricIntervalSecs * 1000, exportTimeoutMs: o.exportTimeoutMs });
    const off = runtime.onTurn((record) => exp.record(record));
    emitEvent('observability_init', { status: 'ok', otlp_endpoint: o.endpoint });
    return async () => {
      off();
      await exp.shutdown(Math.min(2000, o.exportTimeoutMs));
      const s = exp.stats;
      if (s.dropped || s.exportFailures) emitEvent('observability_shutdown', { status: 'lossy', recorded: s.recorded, dropped: s.dropped, export_failures: s.exportFailures });
    };
  } catch (err) {
    emitEvent('observability_init', { status: 'degraded', message: errorChain(err) });
    return undefined;
  }
}
