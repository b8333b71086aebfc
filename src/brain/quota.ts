// Real quota for ChatGPT-plan accounts. `codex exec` writes a rollout file per run
// (`$CODEX_HOME/sessions/YYYY/MM/DD/rollout-…-<thread id>.jsonl`) whose `token_count` events
// carry the backend's `rate_limits` (primary/secondary used percent, reset time). We read the
// last one after each run, then delete the file: it holds the prompt, and one file per turn
// would fill a Pi's card over the years. API-key accounts get no rate limits there.
import { closeSync, openSync, readSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { AccountQuota } from './state.js';

/** Only the tail of a rollout is read: the last token_count is near the end. */
const TAIL_BYTES = 256 * 1024;

function dayDirs(home: string, now: number): string[] {
  const out = new Set<string>();
  for (const offset of [0, -86_400_000, 86_400_000]) {
    const d = new Date(now + offset);
    const parts = [
      [d.getFullYear(), d.getMonth() + 1, d.getDate()],
      [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()],
    ];
    for (const [y, m, day] of parts) out.add(join(home, 'sessions', String(y), String(m).padStart(2, '0'), String(day).padStart(2, '0')));
  }
  return [...out];
}

/** The rollout file of `threadId`, if the CLI wrote one. */
export function findRollout(home: string, threadId: string, now: number): string | undefined {
  if (!/^[A-Za-z0-9-]{8,80}$/.test(threadId)) return undefined;
  for (const dir of dayDirs(home, now)) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    const hit = names.find((n) => n.startsWith('rollout-') && n.endsWith(`-${threadId}.jsonl`));
    if (hit) return join(dir, hit);
  }
  return undefined;
}

function readTail(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const size = statSync(path).size;
    const start = Math.max(0, size - TAIL_BYTES);
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

const pct = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.min(100, v) : null);

/** The last `rate_limits` of a rollout text, as an AccountQuota (undefined when it has none). */
export function quotaFromRollout(text: string, now: number): AccountQuota | undefined {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!line.includes('"token_count"') || !line.includes('"rate_limits"')) continue;
    let e: { payload?: { type?: string; rate_limits?: { primary?: Record<string, unknown> | null; secondary?: Record<string, unknown> | null } | null } };
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    const rl = e.payload?.type === 'token_count' ? e.payload.rate_limits : undefined;
    const primary = pct(rl?.primary?.used_percent);
    if (!rl || primary === null) continue;
    const secondary = pct(rl.secondary?.used_percent);
    // The binding window is the fuller one; its reset is when capacity returns.
    const binding = secondary !== null && secondary > primary ? rl.secondary : rl.primary;
    const resets = typeof binding?.resets_at === 'number' && Number.isFinite(binding.resets_at) ? binding.resets_at * 1000 : null;
    return { primary_used_percent: primary, secondary_used_percent: secondary, resets_at_ms: resets, source: 'rollout', read_at_ms: now };
  }
  return undefined;
}

/** Reads the run's quota (if any) and removes its rollout file. Never throws. */
export function takeRolloutQuota(home: string, threadId: string | undefined, now: number): AccountQuota | undefined {
  if (!threadId) return undefined;
  try {
    const path = findRollout(home, threadId, now);
    if (!path) return undefined;
    const q = quotaFromRollout(readTail(path), now);
    try {
      unlinkSync(path);
    } catch {
      // kept: harmless
    }
    return q;
  } catch {
    return undefined;
  }
}

/** Remaining percent by the real quota: 100 − max(primary, secondary used). */
export function quotaRemainingPercent(q: AccountQuota): number {
  return Math.max(0, Math.floor(100 - Math.max(q.primary_used_percent, q.secondary_used_percent ?? 0)));
}
