// Small validators for our JSON state files: each check returns the typed value or throws a
// SchemaError naming the bad path (`queue[2].prompt: expected a string`).
//
// Why not zod: importing zod (4.6.7) costs 47–55 ms, about as much as Node's own start, and
// `stats` must stay ≤ 2.0× `node -e 0` (bench/core.bench.ts) while validating telemetry.
// zod/mini is no cheaper to import. These checks cost nothing to load.
import { AppError } from '../kernel/index.js';

export class SchemaError extends AppError {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super('schema', path ? `${path}: ${problem}` : problem);
  }

  /** The same problem, one level further down (`key` is a field name or `[3]`). */
  under(key: string): SchemaError {
    return new SchemaError(join(key, this.path), this.problem);
  }
}

/**
 * Runs a child check. Paths are built only when something fails (the valid path is hot: a
 * Pulse state holds thousands of history entries), by prefixing on the way up.
 */
function child<T>(check: Check<T>, value: unknown, path: string, key: string): T {
  try {
    return check(value, '');
  } catch (err) {
    if (err instanceof SchemaError) throw err.under(join(path, key));
    throw err;
  }
}

/** A check: the validated value, or a SchemaError. `path` names the value for the message. */
export type Check<T> = (value: unknown, path: string) => T;

const fail = (path: string, problem: string): never => {
  throw new SchemaError(path, problem);
};

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

export const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

export const string: Check<string> = (v, path) => (typeof v === 'string' ? v : fail(path, `expected a string, got ${describe(v)}`));

export const boolean: Check<boolean> = (v, path) => (typeof v === 'boolean' ? v : fail(path, `expected true or false, got ${describe(v)}`));

/** A finite number; `min` bounds it (counters use 0). */
export function number(options: { min?: number; integer?: boolean; max?: number } = {}): Check<number> {
  return (v, path) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return fail(path, `expected a finite number, got ${describe(v)}`);
    if (options.integer && !Number.isSafeInteger(v)) return fail(path, `expected a safe integer, got ${v}`);
    if (options.min !== undefined && v < options.min) return fail(path, `expected >= ${options.min}, got ${v}`);
    if (options.max !== undefined && v > options.max) return fail(path, `expected <= ${options.max}, got ${v}`);
    return v;
  };
}

export function literal<const L extends string | number | boolean>(...allowed: L[]): Check<L> {
  return (v, path) => (allowed.includes(v as L) ? (v as L) : fail(path, `expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(v) ?? describe(v)}`));
}

export function nullable<T>(check: Check<T>): Check<T | null> {
  return (v, path) => (v === null ? null : check(v, path));
}

/** Missing (undefined) → `fallback`; present → must pass `check`. Like serde's `#[serde(default)]`. */
export function withDefault<T>(check: Check<T>, fallback: () => T): Check<T> {
  return (v, path) => (v === undefined ? fallback() : check(v, path));
}

export function array<T>(item: Check<T>): Check<T[]> {
  return (v, path) => (Array.isArray(v) ? v.map((x, i) => child(item, x, path, `[${i}]`)) : fail(path, `expected an array, got ${describe(v)}`));
}

export function record<T>(item: Check<T>): Check<Record<string, T>> {
  return (v, path) => {
    if (!isObject(v)) return fail(path, `expected an object, got ${describe(v)}`);
    const out: Record<string, T> = {};
    for (const [k, x] of Object.entries(v)) out[k] = child(item, x, path, k);
    return out;
  };
}

/** An object with these fields; fields not listed are dropped (forward compatible). */
export function object<S extends Record<string, Check<unknown>>>(shape: S): Check<{ [K in keyof S]: ReturnType<S[K]> }> {
  const fields = Object.entries(shape);
  return (v, path) => {
    if (!isObject(v)) return fail(path, `expected an object, got ${describe(v)}`);
    const out: Record<string, unknown> = {};
    for (const [k, check] of fields) {
      const x = child(check, v[k], path, k);
      if (x !== undefined) out[k] = x;
    }
    return out as { [K in keyof S]: ReturnType<S[K]> };
  };
}

/** Any JSON object, kept as is (sections we store for others). */
export const anyObject: Check<Record<string, unknown>> = (v, path) => (isObject(v) ? v : fail(path, `expected an object, got ${describe(v)}`));

/**
 * Keeps the items of an array that pass `item`; each dropped one is reported in `issues`
 * (the state file helper then backs the file up before the salvaged state replaces it).
 */
export function salvageArray<T>(v: unknown, path: string, item: Check<T>, issues: string[]): T[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    issues.push(`${path}: expected an array, got ${describe(v)}; dropped`);
    return [];
  }
  const out: T[] = [];
  v.forEach((x, i) => {
    try {
      // The full path is passed down: salvaging decoders report nested issues with it.
      out.push(item(x, join(path, `[${i}]`)));
    } catch (err) {
      issues.push(`${err instanceof Error ? err.message : String(err)}; entry dropped`);
    }
  });
  return out;
}

function join(path: string, key: string): string {
  if (!path) return key;
  if (!key) return path;
  return key.startsWith('[') ? `${path}${key}` : `${path}.${key}`;
}

/**
 * One field of a salvaged entry: missing → `fallback` silently (an older writer); present but
 * invalid → `fallback` with an issue (so the file is backed up before it is rewritten).
 */
export function salvageField<T>(v: unknown, path: string, check: Check<T>, fallback: T, issues: string[]): T {
  if (v === undefined) return fallback;
  try {
    return check(v, path);
  } catch (err) {
    issues.push(`${err instanceof Error ? err.message : String(err)}; reset to ${JSON.stringify(fallback)}`);
    return fallback;
  }
}
