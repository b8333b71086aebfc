// Ops endpoint settings for `serve` (/healthz, /readyz, /metrics). Loopback only, unless the
// operator also sets RUSTY_PINCH_OPS_ALLOW_NON_LOOPBACK=true (serve then warns loudly).
import type { EnvReader } from './env-reader.js';

export const DEFAULT_OPS_ADDR = { host: '127.0.0.1', port: 9464 };

export interface OpsSettings {
  /** Where to listen, or undefined when RUSTY_PINCH_OPS_ADDR=off. Default 127.0.0.1:9464. */
  addr: { host: string; port: number } | undefined;
  /**
   * Set when a non-loopback host was configured: `allowed` (bound as asked, with the opt-in) or
   * `refused` (bound to 127.0.0.1 on the same port instead). serve turns it into a warning event.
   */
  nonLoopback?: { host: string; action: 'allowed' | 'refused' };
  /** RUSTY_PINCH_OPS_ADDR is not an address: serve refuses to start, doctor reports an error. */
  error?: string;
}

/** True for localhost, 127.0.0.0/8 and ::1 (also IPv4-mapped). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.replace(/^::ffff:/, '');
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v4);
  return !!m && m.slice(1).every((p) => Number(p) <= 255) && m[1] === '127';
}

/** Parses `host:port`, `[v6]:port` or a bare port; undefined when it is not one of those. */
export function parseOpsAddr(raw: string): { host: string; port: number } | undefined {
  const t = raw.trim();
  const bare = /^\d{1,5}$/.exec(t);
  const m = bare ? ([t, '127.0.0.1', t] as const) : /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(t);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  const host = m[1]!.replace(/^\[|\]$/g, '');
  if (!host || host.startsWith('-') || host.startsWith('.')) return undefined;
  return { host, port };
}

export function loadOpsSettings(r: EnvReader): OpsSettings {
  const raw = r.str('RUSTY_PINCH_OPS_ADDR');
  const allowExternal = r.bool('RUSTY_PINCH_OPS_ALLOW_NON_LOOPBACK', false);
  if (raw === undefined) return { addr: { ...DEFAULT_OPS_ADDR } };
  if (['off', 'none', 'disabled', 'false'].includes(raw.toLowerCase())) return { addr: undefined };
  const addr = parseOpsAddr(raw);
  if (!addr) {
    // Never silently bind something the operator did not ask for.
    return { addr: undefined, error: `RUSTY_PINCH_OPS_ADDR=${JSON.stringify(raw.slice(0, 80))} is not an address: expected host:port (e.g. 127.0.0.1:9464), a bare port, or off` };
  }
  if (isLoopbackHost(addr.host)) return { addr };
  if (allowExternal) return { addr, nonLoopback: { host: addr.host, action: 'allowed' } };
  r.issue('RUSTY_PINCH_OPS_ADDR', raw, 'not a loopback address; set RUSTY_PINCH_OPS_ALLOW_NON_LOOPBACK=true to expose the ops endpoint', `127.0.0.1:${addr.port}`);
  return { addr: { host: '127.0.0.1', port: addr.port }, nonLoopback: { host: addr.host, action: 'refused' } };
}
