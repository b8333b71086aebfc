// The `codex` telemetry section (the original's fields), taken from the last state the pool
// saw and written through a shared Telemetry (serve, app) or an own one flushed per command.
import { rfc3339Now } from '../kernel/index.js';
import { errorChain } from '../kernel/index.js';
import { emitEvent } from '../observe/index.js';
import { Telemetry } from '../store/index.js';
import type { Settings } from '../config/index.js';
import { guardReason, views } from './rate.js';
import type { PoolState } from './state.js';

export class PoolTelemetry {
  private pending: Record<string, unknown> | undefined;
  private own: Telemetry | undefined;

  constructor(private readonly settings: Settings, private readonly shared?: Telemetry) {}

  /** Remembers the snapshot of `s`; nothing is written until flush(). */
  record(s: PoolState): void {
    const c = this.settings.codex;
    const vs = views(s, c.accounts);
    this.pending = {
      updated_at: rfc3339Now(),
      accounts_cooling: vs.filter((v) => v.state.cooldown_until_ms !== null).length,
      enabled: c.enabled,
      accounts_total: vs.length,
      accounts_healthy: vs.filter((v) => v.state.healthy).length,
      queue_depth: s.queue.length,
      queue_capacity: c.queueCapacity,
      queue_mode_reason: s.queue.length > 0 ? 'queue_backpressure' : guardReason(vs, c.rateLimitThresholdPercent),
      rate_limit_threshold_percent: c.rateLimitThresholdPercent,
    };
  }

  /** Adds a run's token usage (from `turn.completed`) to the summed `codex_tokens` counters. */
  addUsage(u: { input_tokens: number; cached_input_tokens: number; output_tokens: number; reasoning_output_tokens: number }): void {
    const t = this.shared ?? (this.own ??= new Telemetry(this.settings.telemetryFile));
    t.addCounters('codex_tokens', { ...u, turns: 1 });
  }

  /** Hands the snapshot over; with an own Telemetry it is written now. Never throws. */
  async flush(): Promise<void> {
    const snap = this.pending;
    if (!snap) return;
    this.pending = undefined;
    if (this.shared) return this.shared.setSection('codex', snap);
    this.own ??= new Telemetry(this.settings.telemetryFile);
    this.own.setSection('codex', snap);
    await this.own.flush().catch((err) => emitEvent('telemetry_error', { message: errorChain(err) }));
  }
}
