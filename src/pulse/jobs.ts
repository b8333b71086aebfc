// Job definitions: id and URL validation (the original's messages), default jobs, HTTP
// health-check specs, and action names for listings.
import { isIP } from 'node:net';
import { blockedAddressReason } from '../net/index.js';
import type { JobAction, JobSnapshot } from './types.js';
import { AppError } from '../kernel/index.js';

/** Code `pulse_<kind>`; `bad_input` (unreadable observations JSON) is a usage error (exit 2). */
export class PulseError extends AppError {
  constructor(message: string, readonly kind: 'invalid' | 'not_found' | 'expired' | 'bad_input' = 'invalid') {
    super(`pulse_${kind}`, message, kind === 'expired' ? { hint: 'ask for the action again to get a new token' } : {});
  }
}

export interface JobSpec {
  id: string;
  interval_secs: number;
  action: JobAction;
  enabled: boolean;
}

export const HEARTBEAT_JOB = 'runtime-heartbeat';
export const CODEX_HEALTH_JOB = 'codex-healthcheck';
export const CODEX_DRAIN_JOB = 'codex-drain-queue';

/** Default jobs, registered on every start (codex ones only when codex is enabled). */
export function defaultJobs(codexEnabled: boolean): JobSpec[] {
  const jobs: JobSpec[] = [{ id: HEARTBEAT_JOB, interval_secs: 60, action: { emit_log: { message: 'pulse heartbeat' } }, enabled: true }];
  if (codexEnabled) {
    jobs.push({ id: CODEX_HEALTH_JOB, interval_secs: 120, action: 'codex_health_check', enabled: true });
    jobs.push({ id: CODEX_DRAIN_JOB, interval_secs: 30, action: 'codex_drain_queue_one', enabled: true });
  }
  return jobs;
}

/** Trimmed, validated job id (`a-z0-9_-`). */
export function validateJobId(raw: string): string {
  const id = raw.trim();
  if (!id) throw new PulseError('pulse job id is empty');
  if (!/^[a-z0-9_-]+$/.test(id)) throw new PulseError(`invalid pulse job id '${id}'. allowed: a-z, 0-9, '_' and '-'`);
  return id;
}

export function isCodexAction(action: JobAction): boolean {
  return action === 'codex_health_check' || action === 'codex_drain_queue_one';
}

/**
 * Validates a health-check URL. Hosts are checked after WHATWG parsing (so `#@`, decimal and
 * mapped IPv6 tricks resolve to the real host); private hosts pass only when `allowPrivate`.
 */
export function validateHealthcheckUrl(raw: string, allowPrivate: boolean): string {
  const url = raw.trim();
  if (!url) throw new PulseError('healthcheck url is empty');
  if (!url.startsWith('http://') && !url.startsWith('https://')) throw new PulseError('healthcheck url must start with http:// or https://');
  if (/[\s\u0000-\u001f\u007f]/u.test(url)) throw new PulseError('healthcheck url contains invalid characters');
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw new PulseError('failed parsing healthcheck host');
  }
  if (!host) throw new PulseError('failed parsing healthcheck host');
  if (!allowPrivate && isPrivateHost(host)) {
    throw new PulseError(`healthcheck url host '${host}' is blocked by sandbox policy (set RUSTY_PINCH_PULSE_HEALTHCHECK_ALLOW_PRIVATE=true to check local services)`);
  }
  return url;
}

/**
 * A host the health-check policy refuses without RUSTY_PINCH_PULSE_HEALTHCHECK_ALLOW_PRIVATE:
 * local names, and address literals the one outbound policy (net/) blocks. Names are resolved
 * and every address checked when the check runs; this is the early, no-DNS part.
 */
export function isPrivateHost(hostname: string): boolean {
  let h = hostname.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  h = h.replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost') || h.endsWith('.local') || h.endsWith('.internal')) return true;
  return isIP(h) !== 0 && blockedAddressReason(h) !== undefined;
}

export function httpHealthcheckSpec(input: { id: string; intervalSecs: number; url: string; expectedStatus: number; timeoutSecs: number; enabled: boolean; allowPrivate: boolean }): JobSpec {
  if (!Number.isInteger(input.expectedStatus) || input.expectedStatus < 100 || input.expectedStatus > 599) {
    throw new PulseError(`expected_status must be in HTTP range 100-599, got ${input.expectedStatus}`);
  }
  const id = validateJobId(input.id);
  const url = validateHealthcheckUrl(input.url, input.allowPrivate);
  return {
    id,
    interval_secs: Math.max(1, Math.floor(input.intervalSecs)),
    action: { http_health_check: { url, expected_status: input.expectedStatus, timeout_secs: Math.max(1, Math.floor(input.timeoutSecs)) } },
    enabled: input.enabled,
  };
}

/** A fresh job snapshot: first due one interval from `nowMs` (never immediately). */
export function newJob(spec: JobSpec, nowMs: number): JobSnapshot {
  if (!Number.isInteger(spec.interval_secs) || spec.interval_secs < 1) throw new PulseError('pulse job interval must be >= 1 second');
  return {
    id: validateJobId(spec.id),
    interval_secs: spec.interval_secs,
    action: spec.action,
    enabled: spec.enabled,
    runs: 0,
    next_due_at: iso(nowMs + spec.interval_secs * 1000),
    last_run_at: null,
    last_status: null,
    last_message: null,
    history: [],
  };
}

/** Decodes a job action from a state file; undefined when unknown. */
export function decodeAction(v: unknown): JobAction | undefined {
  if (v === 'codex_health_check' || v === 'codex_drain_queue_one') return v;
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const log = o.emit_log as Record<string, unknown> | undefined;
  if (log && typeof log.message === 'string') return { emit_log: { message: log.message } };
  const hc = o.http_health_check as Record<string, unknown> | undefined;
  if (hc && typeof hc.url === 'string' && typeof hc.expected_status === 'number' && typeof hc.timeout_secs === 'number') {
    return { http_health_check: { url: hc.url, expected_status: hc.expected_status, timeout_secs: Math.max(1, hc.timeout_secs) } };
  }
  return undefined;
}

/** RFC 3339 with `+00:00`, as the original's chrono output. */
export function iso(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}
