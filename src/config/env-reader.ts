// Typed reads of environment variables with the original's parsing rules, except that a value
// that does not parse is recorded as an issue (doctor reports it) instead of silently ignored.
import type { EnvMap } from './env-file.js';

/** A variable whose value was invalid; the default was used instead. */
export interface ConfigIssue {
  variable: string;
  value: string;
  message: string;
  default_used: string;
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

export class EnvReader {
  readonly issues: ConfigIssue[] = [];
  constructor(readonly env: EnvMap) {}

  /** Raw value, untrimmed (undefined when unset). */
  raw(name: string): string | undefined {
    return this.env[name];
  }

  /** Trimmed, non-empty string or undefined. */
  str(name: string): string | undefined {
    const v = this.env[name]?.trim();
    return v ? v : undefined;
  }

  /** Trimmed string, falling back to `def` only when unset (set-but-empty stays empty). */
  strKeepEmpty(name: string, def: string): string {
    const v = this.env[name];
    return v === undefined ? def : v.trim();
  }

  /** First non-blank value among `names`, with the variable it came from. */
  first(names: readonly string[]): { value: string; from: string } | undefined {
    for (const n of names) {
      const v = this.str(n);
      if (v !== undefined) return { value: v, from: n };
    }
    return undefined;
  }

  bool(name: string, def: boolean): boolean {
    const raw = this.env[name];
    if (raw === undefined || raw.trim() === '') return def;
    const v = raw.trim().toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    this.issue(name, raw, 'expected a boolean (true/false, 1/0, yes/no, on/off)', String(def));
    return def;
  }

  /** Integer in [min, max]; blank → default; garbage or out of range → default plus an issue. */
  int(name: string, def: number, opts: { min?: number; max?: number; clamp?: boolean } = {}): number {
    const raw = this.env[name];
    if (raw === undefined || raw.trim() === '') return def;
    const t = raw.trim();
    if (!/^[+]?\d+$/.test(t)) {
      this.issue(name, raw, 'expected a whole number', String(def));
      return def;
    }
    let n = Number(t);
    if (!Number.isSafeInteger(n)) {
      this.issue(name, raw, 'number is too large', String(def));
      return def;
    }
    const { min, max, clamp } = opts;
    if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
      if (clamp) {
        n = Math.min(max ?? n, Math.max(min ?? n, n));
        this.issue(name, raw, `must be in ${min ?? '-∞'}..${max ?? '∞'}; clamped`, String(n));
        return n;
      }
      this.issue(name, raw, `must be in ${min ?? '-∞'}..${max ?? '∞'}`, String(def));
      return def;
    }
    return n;
  }

  /** Comma-separated list: trimmed items, empties dropped. */
  csv(name: string): string[] {
    const raw = this.env[name];
    if (!raw) return [];
    return raw.split(',').map((s) => s.trim()).filter(Boolean);
  }

  /** Whitespace-separated args. When the variable is set at all (even empty), its value is used. */
  args(name: string, def: string[]): string[] {
    const raw = this.env[name];
    if (raw === undefined) return def;
    return raw.split(/\s+/u).filter(Boolean);
  }

  /** One of `allowed` (case-insensitive); anything else → default plus an issue. */
  oneOf<T extends string>(name: string, allowed: readonly T[], def: T): T {
    const raw = this.env[name];
    if (raw === undefined || raw.trim() === '') return def;
    const v = raw.trim().toLowerCase();
    if ((allowed as readonly string[]).includes(v)) return v as T;
    this.issue(name, raw, `expected one of ${allowed.join(', ')}`, def);
    return def;
  }

  issue(variable: string, value: string, message: string, defaultUsed: string): void {
    this.issues.push({ variable, value, message, default_used: defaultUsed });
  }
}
