// `codex status`: the original's object plus where each quota figure came from, the cooldown,
// the account's home, the classified last error and the command that fixes an unhealthy account.
// Built from a state snapshot: nothing is spawned and nothing is written.
import { redactSecrets, rfc3339 } from '../kernel/index.js';
import type { Settings } from '../config/index.js';
import { accountHome, loginCommand } from './accounts.js';
import { guardReason, views } from './rate.js';
import type { PoolState } from './state.js';

export function statusView(settings: Settings, s: PoolState): Record<string, unknown> {
  const c = settings.codex;
  const vs = views(s, c.accounts);
  const at = (ms: number | null): string | null => (ms === null ? null : rfc3339(new Date(ms)));
  return {
    enabled: c.enabled,
    queue_depth: s.queue.length,
    queue_capacity: c.queueCapacity,
    queue_mode_reason: s.queue.length > 0 ? 'queue_backpressure' : guardReason(vs, c.rateLimitThresholdPercent),
    rate_limit_threshold_percent: c.rateLimitThresholdPercent,
    accounts: vs.map((v) => ({
      id: v.config.id,
      healthy: v.state.healthy,
      used_requests: v.used,
      max_requests: v.config.maxRequests,
      remaining_percent: v.remainingPercent,
      // Where remaining_percent comes from: the CLI's real quota (ChatGPT plans) or our request window.
      quota_source: v.quotaSource,
      quota: v.state.quota
        ? { primary_used_percent: v.state.quota.primary_used_percent, secondary_used_percent: v.state.quota.secondary_used_percent, resets_at: at(v.state.quota.resets_at_ms), read_at: at(v.state.quota.read_at_ms) }
        : null,
      cooldown_until: at(v.state.cooldown_until_ms),
      model: v.config.model ?? null,
      api_key_env: v.config.apiKeyEnv ?? null,
      codex_home: accountHome(settings, v.config),
      last_error: v.state.last_error === null ? null : redactSecrets(v.state.last_error),
      last_error_kind: v.state.last_error_kind,
      fix: v.state.healthy ? null : loginCommand(v.config.id),
      last_healthcheck_at: v.state.last_healthcheck_at,
    })),
  };
}
