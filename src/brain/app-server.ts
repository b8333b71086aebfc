// Real quota of a ChatGPT-plan account without a model turn: `codex app-server` (JSON-RPC 2.0,
// one JSON object per line on stdio) answers `account/rateLimits/read` with the primary and
// secondary windows' used percent and reset times. Spawned per read in its own process group,
// stopped as soon as it answered (or at the deadline). API-key homes answer an error: no quota.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AccountQuota } from './state.js';

/** True when the home holds a ChatGPT login (the only kind with a real quota). */
export function isChatgptHome(home: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(home, 'auth.json'), 'utf8')) as { auth_mode?: unknown }).auth_mode === 'chatgpt';
  } catch {
    return false;
  }
}

type Window = { usedPercent?: unknown; resetsAt?: unknown } | null | undefined;
const pct = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.min(100, v) : null);

/** The quota in an `account/rateLimits/read` result, or undefined when it has none. */
export function quotaFromRateLimits(result: unknown, now: number): AccountQuota | undefined {
  const rl = (result as { rateLimits?: { primary?: Window; secondary?: Window } } | null)?.rateLimits;
  const primary = pct(rl?.primary?.usedPercent);
  if (!rl || primary === null) return undefined;
  const secondary = pct(rl.secondary?.usedPercent);
  const binding = secondary !== null && secondary > primary ? rl.secondary : rl.primary;
  const resets = typeof binding?.resetsAt === 'number' && Number.isFinite(binding.resetsAt) ? binding.resetsAt * 1000 : null;
  return { primary_used_percent: primary, secondary_used_percent: secondary, resets_at_ms: resets, source: 'app-server', read_at_ms: now };
}

/** Asks `codex app-server` for the account's rate limits. Never throws; undefined when unknown. */
export function readAppServerQuota(bin: string, env: Record<string, string>, timeoutMs: number, now: () => number): Promise<AccountQuota | undefined> {
  return new Promise((resolve) => {
    let done = false;
    let buf = '';
    const child = spawn(bin, ['app-server'], { env, detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
    const finish = (q: AccountQuota | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      resolve(q);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    const send = (o: Record<string, unknown>): void => {
      if (!child.stdin.destroyed) child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...o })}\n`);
    };
    child.on('error', () => finish(undefined));
    child.on('exit', () => finish(undefined));
    child.stdin.on('error', () => finish(undefined));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      if (buf.length > 1_000_000) return finish(undefined);
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        let msg: { id?: unknown; result?: unknown; error?: unknown };
        try {
          msg = JSON.parse(line);
        } catch {
          continue;
        }
        if (msg.id === 1) {
          send({ method: 'initialized' });
          send({ id: 2, method: 'account/rateLimits/read' });
        } else if (msg.id === 2) finish(msg.error ? undefined : quotaFromRateLimits(msg.result, now()));
      }
    });
    send({ id: 1, method: 'initialize', params: { clientInfo: { name: 'rusty-pinch', title: null, version: '1' } } });
  });
}
