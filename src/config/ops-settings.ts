// Ops endpoint settings for `serve` (/healthz, /readyz, /metrics on loopback).
import type { EnvReader } from './env-reader.js';

export interface OpsSettings {
  /** `host:port`, or undefined when set to `off`. Default 127.0.0.1:9464. */
  addr: { host: string; port: number } | undefined;
}

export function loadOpsSettings(r: EnvReader): OpsSettings {
  const raw = r.str('RUSTY_PINCH_OPS_ADDR') ?? '127.0.0.1:9464';
  if (raw.toLowerCase() === 'off') return { addr: undefined };
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(raw);
  if (!m || Number(m[2]) > 65535) {
    r.issue('RUSTY_PINCH_OPS_ADDR', raw, 'expected host:port or off', '127.0.0.1:9464');
    return { addr: { host: '127.0.0.1', port: 9464 } };
  }
  return { addr: { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) } };
}
