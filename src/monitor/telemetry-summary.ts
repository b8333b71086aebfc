// Telemetry panel: a read-only look at the telemetry snapshot file. Never writes, never moves
// a corrupt file aside (that is the store's job), never fatal: failure → `unavailable`.
import { readFile } from 'node:fs/promises';

export interface TelemetrySummary {
  status: 'ok' | 'unavailable';
  /** Why it is unavailable (missing, unreadable, not JSON, not an object). */
  reason?: string;
  updated_at?: string;
  total_turns?: number;
  ok_turns?: number;
  error_turns?: number;
  provider_turns?: number;
  tool_turns?: number;
  skill_turns?: number;
  last_turn?: { timestamp?: string; request_id?: string; session_id?: string; path?: string; status?: string; latency_ms?: number } | null;
  codex?: Record<string, unknown> | null;
  pulse?: Record<string, unknown> | null;
  evolution?: Record<string, unknown> | null;
}

const COUNTERS = ['total_turns', 'ok_turns', 'error_turns', 'provider_turns', 'tool_turns', 'skill_turns'] as const;
const MAX_BYTES = 4 * 1024 * 1024;

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v.slice(0, 200) : undefined;
}

function obj(v: unknown): Record<string, unknown> | null {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** Decodes parsed JSON tolerantly (wrong types → field absent). */
export function summarizeTelemetry(value: unknown): TelemetrySummary {
  const v = obj(value);
  if (!v) return { status: 'unavailable', reason: 'not a JSON object' };
  const out: TelemetrySummary = { status: 'ok', updated_at: str(v.updated_at) };
  for (const c of COUNTERS) {
    const n = v[c];
    if (typeof n === 'number' && Number.isFinite(n) && n >= 0) out[c] = n;
  }
  const lt = obj(v.last_turn);
  out.last_turn = lt
    ? {
        timestamp: str(lt.timestamp),
        request_id: str(lt.request_id),
        session_id: str(lt.session_id),
        path: str(lt.path),
        status: str(lt.status),
        latency_ms: typeof lt.latency_ms === 'number' && Number.isFinite(lt.latency_ms) ? lt.latency_ms : undefined,
      }
    : null;
  out.codex = obj(v.codex);
  out.pulse = obj(v.pulse);
  out.evolution = obj(v.evolution);
  return out;
}

export async function readTelemetrySummary(file: string): Promise<TelemetrySummary> {
  let text: string;
  try {
    const buf = await readFile(file);
    if (buf.length > MAX_BYTES) return { status: 'unavailable', reason: 'file too large' };
    text = buf.toString('utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { status: 'unavailable', reason: code === 'ENOENT' ? 'no telemetry file yet' : `cannot read (${code ?? 'error'})` };
  }
  try {
    return summarizeTelemetry(JSON.parse(text));
  } catch {
    return { status: 'unavailable', reason: 'not valid JSON' };
  }
}
