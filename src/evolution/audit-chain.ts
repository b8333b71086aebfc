// A keyed, hash-chained JSONL audit log (shared by self-update and skill generation).
// Every record's `hash` covers ALL its other fields (canonical JSON of the sorted entries, so a
// newline in a value cannot forge a field boundary) plus `prev_hash`. With a key the hash is an
// HMAC-SHA256, so rewriting the whole file with recomputed hashes needs the key; without one it
// is a plain SHA-256 chain (the original's strength). Tail truncation stays undetectable without
// an external anchor: see docs/evolution.md.
import { appendFileSync, closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { EvolutionError } from './errors.js';
import { isNotFound } from './fs-util.js';

export interface AuditKey {
  id: string;
  secret: string;
}

export interface AuditChainOptions {
  path: string;
  /** Signs new records. */
  key?: AuditKey;
  /** Extra keys accepted at verification (rotation), looked up by id case-insensitively. */
  keyring?: AuditKey[];
}

export interface AuditVerifyReport {
  audit_log_path: string;
  entries: number;
  last_hash: string | null;
  valid: true;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The bytes a record's hash covers: every field but `hash`, keys sorted, as JSON. */
export function canonicalPayload(record: Record<string, unknown>): string {
  const entries = Object.keys(record)
    .filter((k) => k !== 'hash')
    .sort()
    .map((k) => [k, record[k] ?? null]);
  return JSON.stringify(entries);
}

function digest(record: Record<string, unknown>, key: AuditKey | undefined): string {
  const payload = canonicalPayload(record);
  return key ? createHmac('sha256', Buffer.from(key.secret.trim(), 'utf8')).update(payload).digest('hex') : createHash('sha256').update(payload).digest('hex');
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export class AuditChain {
  constructor(private readonly opts: AuditChainOptions) {}

  get path(): string {
    return this.opts.path;
  }

  /** Appends one record (fields in the caller's order) and returns its hash. */
  append(fields: Record<string, unknown>): string {
    const prev = this.lastHash();
    const key = this.opts.key;
    const record: Record<string, unknown> = { ...fields, hash_alg: key ? 'hmac-sha256' : 'sha256', key_id: key ? key.id : null, prev_hash: prev };
    record.hash = digest(record, key);
    appendFileSync(this.opts.path, JSON.stringify(record) + '\n', { mode: 0o600 });
    return record.hash as string;
  }

  /** The hash of the last record, from the file's tail (null for no file or no record). */
  lastHash(): string | null {
    let fd: number;
    try {
      fd = openSync(this.opts.path, 'r');
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    try {
      const size = fstatSync(fd).size;
      let span = Math.min(size, 16 * 1024);
      for (;;) {
        const buf = Buffer.alloc(span);
        readSync(fd, buf, 0, span, size - span);
        const lines = buf.toString('utf8').split('\n').filter((l) => l.trim() !== '');
        // The first line of a partial window may be cut; trust it only when the window is the file.
        if (lines.length > (span === size ? 0 : 1) || span === size) {
          const last = lines[lines.length - 1];
          if (last === undefined) return null;
          const hash = String((JSON.parse(last) as { hash?: unknown }).hash ?? '').trim().toLowerCase();
          if (!HEX64.test(hash)) throw new EvolutionError(`invalid audit hash in the last record of ${this.opts.path}`);
          return hash;
        }
        span = Math.min(size, span * 4);
      }
    } finally {
      closeSync(fd);
    }
  }

  private keyFor(id: unknown, line: number): AuditKey {
    const want = typeof id === 'string' ? id.trim().toLowerCase() : '';
    const keys = [...(this.opts.key ? [this.opts.key] : []), ...(this.opts.keyring ?? [])];
    const key = keys.find((k) => k.id.trim().toLowerCase() === want);
    if (!key) throw new EvolutionError(keys.length === 0 ? `audit record at line ${line} is keyed (key id '${String(id)}') but no audit key is configured` : `audit key id '${String(id)}' at line ${line} is not configured`);
    return key;
  }

  /** Checks every record's hash and the chain; throws naming the first bad line. */
  verify(): AuditVerifyReport {
    let text: string;
    try {
      text = readFileSync(this.opts.path, 'utf8');
    } catch (err) {
      if (isNotFound(err)) return { audit_log_path: this.opts.path, entries: 0, last_hash: null, valid: true };
      throw err;
    }
    const keyed = Boolean(this.opts.key) || (this.opts.keyring?.length ?? 0) > 0;
    let prev: string | null = null;
    let entries = 0;
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!;
      if (raw.trim() === '') continue;
      const n = i + 1;
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(raw) as Record<string, unknown>;
        if (!rec || typeof rec !== 'object' || Array.isArray(rec)) throw new Error('not an object');
      } catch {
        throw new EvolutionError(`failed decoding evolution audit record at line ${n} in ${this.opts.path}`);
      }
      const hash = String(rec.hash ?? '').trim().toLowerCase();
      if (!HEX64.test(hash)) throw new EvolutionError(`invalid audit hash at line ${n}`);
      let expected: string;
      if (rec.hash_alg === 'hmac-sha256') expected = digest(rec, this.keyFor(rec.key_id, n));
      else if (rec.hash_alg === 'sha256' || rec.hash_alg === undefined) {
        if (keyed) throw new EvolutionError(`audit record at line ${n} is not keyed while an audit key is configured (audit hash mismatch at line ${n})`);
        expected = digest(rec, undefined);
      } else throw new EvolutionError(`unsupported audit hash algorithm '${String(rec.hash_alg)}' at line ${n}`);
      if (!sameHex(expected, hash)) throw new EvolutionError(`audit hash mismatch at line ${n}`);
      const p = rec.prev_hash == null || String(rec.prev_hash).trim() === '' ? null : String(rec.prev_hash).trim().toLowerCase();
      if (p !== null && !HEX64.test(p)) throw new EvolutionError(`invalid audit prev_hash at line ${n}`);
      if (p !== prev) throw new EvolutionError(`audit chain prev_hash mismatch at line ${n}`);
      prev = hash;
      entries++;
    }
    return { audit_log_path: this.opts.path, entries, last_hash: prev, valid: true };
  }
}
