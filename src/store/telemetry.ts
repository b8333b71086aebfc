// Persisted telemetry snapshot (`latest.json`, the original's schema). Turns are recorded as
// deltas and merged into the file under a cross-process lock, so concurrent processes lose no
// count. Stored through store's JsonStateFile: a corrupt file is moved aside and rebuilt.
import { JsonStateFile, type StateCodec } from './state-file.js';
import * as S from './schema.js';
import { rfc3339Now } from '../kernel/index.js';
import type { TurnRecord } from '../kernel/index.js';

export type SectionName = 'codex' | 'pulse' | 'evolution';

export interface TelemetrySnapshot {
  schema_version: number;
  updated_at: string;
  total_turns: number;
  ok_turns: number;
  error_turns: number;
  provider_turns: number;
  tool_turns: number;
  skill_turns: number;
  total_provider_attempts: number;
  /** Turns whose work was queued (Codex pool): counted apart from ok and error turns. */
  queued_turns: number;
  codex: Record<string, unknown> | null;
  pulse: Record<string, unknown> | null;
  evolution: Record<string, unknown> | null;
  last_turn: TurnRecord | null;
  /** Beyond the original: bus and prompt-cache counters summed over every process. */
  bus?: Record<string, number>;
  prompt_cache?: Record<string, number>;
  /** Token usage reported by the Codex CLI (`turn.completed` usage), summed. */
  codex_tokens?: Record<string, number>;
}

export type CounterGroup = 'bus' | 'prompt_cache' | 'codex_tokens';

const COUNTERS = ['total_turns', 'ok_turns', 'error_turns', 'provider_turns', 'tool_turns', 'skill_turns', 'total_provider_attempts', 'queued_turns'] as const;
type Counter = (typeof COUNTERS)[number];

export function emptySnapshot(): TelemetrySnapshot {
  return {
    schema_version: 1,
    updated_at: rfc3339Now(),
    total_turns: 0,
    ok_turns: 0,
    error_turns: 0,
    provider_turns: 0,
    tool_turns: 0,
    skill_turns: 0,
    total_provider_attempts: 0,
    codex: null,
    pulse: null,
    evolution: null,
    last_turn: null,
    // Beyond the original (after its fields, keeping their order).
    queued_turns: 0,
  };
}

const counter = S.number({ integer: true, min: 0 });
const section = S.nullable(S.anyObject);

/**
 * Every field optional (missing → default, as serde's `default`); a field of the wrong type is
 * reset and reported in `issues`, so the file is backed up before it is rewritten (never
 * coerced silently). Throws only when the file is not a JSON object.
 */
export function decodeSnapshot(value: unknown, issues: string[] = []): TelemetrySnapshot {
  if (!S.isObject(value)) throw new S.SchemaError('', 'telemetry file is not a JSON object');
  const v = value;
  const s = emptySnapshot();
  const f = <T>(k: string, check: S.Check<T>, fallback: T): T => S.salvageField(v[k], k, check, fallback, issues);
  s.schema_version = f('schema_version', S.number({ integer: true, min: 1 }), s.schema_version);
  for (const c of COUNTERS) s[c] = f(c, counter, 0);
  s.updated_at = f('updated_at', S.string, s.updated_at);
  for (const k of ['codex', 'pulse', 'evolution'] as const) s[k] = f(k, section, null);
  s.last_turn = f('last_turn', S.nullable(S.anyObject), null) as TurnRecord | null;
  for (const g of ['bus', 'prompt_cache', 'codex_tokens'] as const) {
    const obj = f(g, S.record(S.number()), undefined);
    if (obj) s[g] = obj;
  }
  return s;
}

const codec: StateCodec<TelemetrySnapshot> = { what: 'telemetry', empty: emptySnapshot, decode: decodeSnapshot };

export class Telemetry {
  private pending: Record<Counter, number> = zeroCounters();
  private pendingLast: TurnRecord | undefined;
  private pendingSections = new Map<SectionName, Record<string, unknown> | null>();
  private pendingGroups = new Map<CounterGroup, Record<string, number>>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  private readonly state: JsonStateFile<TelemetrySnapshot>;

  /** @param debounceMs how long records gather before one locked write (default 200 ms). */
  constructor(readonly file: string, private readonly debounceMs = 200) {
    // Written every few hundred ms while turns run: its fsyncs stay off the event loop.
    this.state = new JsonStateFile(file, codec, { asyncWrite: true });
  }

  /** Counts one turn (original rules, reference §11.3). Written by the next flush. */
  record(turn: TurnRecord): void {
    this.pending.total_turns++;
    if (turn.status === 'ok') this.pending.ok_turns++;
    else if (turn.status === 'queued') this.pending.queued_turns++;
    else this.pending.error_turns++;
    if (turn.path === 'tool') this.pending.tool_turns++;
    else if (turn.path === 'skill') this.pending.skill_turns++;
    else this.pending.provider_turns++;
    if (typeof turn.attempts === 'number') this.pending.total_provider_attempts += turn.attempts;
    this.pendingLast = turn;
    this.schedule();
  }

  /** Adds to cumulative counters (bus, prompt cache); `set` keys are replaced (e.g. depth). */
  addCounters(group: CounterGroup, delta: Record<string, number>, set: Record<string, number> = {}): void {
    const cur = this.pendingGroups.get(group) ?? {};
    for (const [k, n] of Object.entries(delta)) cur[k] = (cur[k] ?? 0) + n;
    for (const [k, n] of Object.entries(set)) cur[`=${k}`] = n;
    this.pendingGroups.set(group, cur);
    this.schedule();
  }

  /** Replaces a subsystem section (codex/pulse/evolution status). */
  setSection(name: SectionName, value: Record<string, unknown> | null): void {
    this.pendingSections.set(name, value);
    this.schedule();
  }

  /** The snapshot as on disk (no lock: the file is replaced atomically). */
  read(): TelemetrySnapshot {
    return this.state.read();
  }

  /** Writes everything recorded so far. Safe to call often; callers await it before exit. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.flushing = this.flushing.then(() => this.writePending());
    return this.flushing;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch(() => undefined);
    }, this.debounceMs);
    this.timer.unref();
  }

  private async writePending(): Promise<void> {
    const delta = this.pending;
    const last = this.pendingLast;
    const sections = this.pendingSections;
    const groups = this.pendingGroups;
    if (delta.total_turns === 0 && sections.size === 0 && groups.size === 0 && !last) return;
    this.pending = zeroCounters();
    this.pendingLast = undefined;
    this.pendingSections = new Map();
    this.pendingGroups = new Map();
    try {
      await this.state.update((snap) => {
        for (const c of COUNTERS) snap[c] += delta[c];
        if (last) snap.last_turn = last;
        for (const [k, v] of sections) snap[k] = v;
        for (const [g, d] of groups) {
          const cur = { ...(snap[g] ?? {}) };
          for (const [k, n] of Object.entries(d)) {
            if (k.startsWith('=')) cur[k.slice(1)] = n;
            else cur[k] = (cur[k] ?? 0) + n;
          }
          snap[g] = cur;
        }
        snap.updated_at = rfc3339Now();
        return { result: undefined, changed: true };
      });
    } catch (err) {
      // Put the delta back so a later flush retries; never fail a turn over telemetry.
      for (const c of COUNTERS) this.pending[c] += delta[c];
      this.pendingLast ??= last;
      for (const [k, v] of sections) if (!this.pendingSections.has(k)) this.pendingSections.set(k, v);
      for (const [g, d] of groups) {
        const cur = this.pendingGroups.get(g) ?? {};
        for (const [k, n] of Object.entries(d)) cur[k] = k.startsWith('=') ? (cur[k] ?? n) : (cur[k] ?? 0) + n;
        this.pendingGroups.set(g, cur);
      }
      throw err;
    }
  }
}

function zeroCounters(): Record<Counter, number> {
  return { total_turns: 0, ok_turns: 0, error_turns: 0, provider_turns: 0, tool_turns: 0, skill_turns: 0, total_provider_attempts: 0, queued_turns: 0 };
}
