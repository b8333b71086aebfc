// The evolution audit record of a skill generation: one record appended to the keyed,
// hash-chained log the self-update work keeps (WS/updates/evolution-audit.jsonl), signed with
// the same key (RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY) when one is configured, so
// `evolution audit-verify`-style checks cover skills and updates as one chain. Each append
// holds the evolution operation lock (updates/evolution.lock) for a moment, the lock every
// update operation holds while it appends, so the two kinds of record never fork the chain.
//
// A record is never dropped. When the lock is busy (an update holds it for its whole run, which
// may be long), the record is first written to the spool (updates/audit-pending/<ms>-<pid>-<id>.json),
// then the append waits for the lock as long as it takes (a warning after SKILL_AUDIT_LOCK_WAIT_MS
// says so). Whoever holds the lock for a skill append appends every spooled record first, oldest
// first, so a record whose process died while waiting lands with the next append. A record
// carries an `audit_id`; a spooled one already in the chain (its appender died before removing
// the spool file) is not appended twice.
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { emitEvent } from '../../observe/index.js';
import { writeJsonAtomic } from '../../store/index.js';
import { AuditChain } from '../audit-chain.js';
import { EvolutionError } from '../errors.js';
import { isNotFound } from '../fs-util.js';
import { AUDIT_APPEND_OPERATION, EvolutionLock, type HeldLock } from '../lock.js';
import { evolutionSettings } from '../settings.js';

/** After waiting this long for an update operation to release the lock, a warning says the record waits. */
export const SKILL_AUDIT_LOCK_WAIT_MS = 5 * 60_000;

export function auditPath(workspace: string): string {
  return join(workspace, 'updates', 'evolution-audit.jsonl');
}

export function auditSpoolDir(workspace: string): string {
  return join(workspace, 'updates', 'audit-pending');
}

const SPOOL_ENTRY = /^\d{13}-\d+-[0-9a-f-]{36}\.json$/;

function isContention(err: unknown): boolean {
  return err instanceof EvolutionError && err.code === 'evolution_locked';
}

/**
 * Appends one record under a brief hold of the evolution lock; returns its hash. While another
 * operation holds the lock the record waits in the spool (durably) and is appended when the lock
 * frees; `patienceMs` only decides when a warning says that it waits.
 */
export async function appendSkillAudit(workspace: string, fields: Record<string, unknown>, env: Record<string, string | undefined> = {}, patienceMs = SKILL_AUDIT_LOCK_WAIT_MS): Promise<string> {
  const path = auditPath(workspace);
  mkdirSync(dirname(path), { recursive: true });
  const s = evolutionSettings(env, workspace);
  const chain = new AuditChain({ path, key: s.manifestKey, keyring: s.manifestKeyring });
  const lock = new EvolutionLock(join(dirname(path), 'evolution.lock'), { staleAfterSecs: s.lockStaleAfterSecs, autoRecoverStale: s.autoRecoverStaleLock });
  const spool = auditSpoolDir(workspace);
  const record = { timestamp: new Date().toISOString(), kind: 'skill_generation', ...fields, audit_id: randomUUID() };

  let held: HeldLock | undefined;
  try {
    held = lock.acquire(AUDIT_APPEND_OPERATION);
  } catch (err) {
    if (!isContention(err)) throw err;
  }
  if (held) {
    try {
      return appendUnderLock(chain, spool, record);
    } finally {
      held.release();
    }
  }
  // Busy: keep the record on disk first, so a crash while waiting loses nothing.
  const entry = join(spool, `${Date.now()}-${process.pid}-${record.audit_id}.json`);
  writeJsonAtomic(entry, record, { mode: 0o600 });
  for (let warned = false; ; ) {
    try {
      return await lock.holdBriefly(AUDIT_APPEND_OPERATION, () => appendUnderLock(chain, spool, null, record.audit_id), patienceMs);
    } catch (err) {
      if (!isContention(err)) throw err;
      if (!warned) {
        warned = true;
        emitEvent('warning', { message: `the skill audit record of '${String(fields.skill)}' waits for the evolution lock (${(err as Error).message}); it is kept in ${entry} and appended when the lock frees`, component: 'evolution' });
      }
    }
  }
}

/**
 * Under the lock: the spooled records (oldest first), then `record`. Returns the hash of
 * `record`, or of the spooled record `wantId` (which another appender may have appended already).
 */
function appendUnderLock(chain: AuditChain, spool: string, record: Record<string, unknown> | null, wantId?: string): string {
  let names: string[];
  try {
    names = readdirSync(spool).filter((n) => SPOOL_ENTRY.test(n)).sort();
  } catch (err) {
    if (!isNotFound(err)) throw err;
    names = [];
  }
  let found: string | undefined;
  let text: string | undefined;
  for (const name of names) {
    const file = join(spool, name);
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      if (!rec || typeof rec !== 'object' || Array.isArray(rec) || typeof rec.audit_id !== 'string') throw new Error('not an audit record');
    } catch (err) {
      if (isNotFound(err)) continue;
      renameSync(file, `${file}.corrupt`);
      emitEvent('warning', { message: `a spooled skill audit record is unreadable (${(err as Error).message}); kept as ${file}.corrupt, not appended`, component: 'evolution' });
      continue;
    }
    // Already in the chain when its appender died between the append and the removal.
    text ??= readChain(chain.path);
    const hash = hashOf(text, rec.audit_id as string) ?? chain.append(rec);
    unlinkSync(file);
    if (rec.audit_id === wantId) found = hash;
  }
  if (record) return chain.append(record);
  if (found !== undefined) return found;
  // Appended by another process while this one waited.
  const hash = wantId === undefined ? undefined : hashOf(readChain(chain.path), wantId);
  if (hash === undefined) throw new EvolutionError(`the spooled skill audit record ${wantId ?? ''} is neither in the spool nor in the chain`);
  return hash;
}

function readChain(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return '';
    throw err;
  }
}

function hashOf(text: string, auditId: string): string | undefined {
  const needle = `"audit_id":${JSON.stringify(auditId)}`;
  for (const line of text.split('\n')) {
    if (!line.includes(needle)) continue;
    try {
      const r = JSON.parse(line) as { audit_id?: unknown; hash?: unknown };
      if (r.audit_id === auditId && typeof r.hash === 'string') return r.hash;
    } catch {
      // a torn line is not the record
    }
  }
  return undefined;
}

/** Generations started today (UTC): audit records of this kind not made by an approval or a resumed queued answer. */
export function generationsToday(workspace: string, now = new Date()): number {
  let text: string;
  try {
    text = readFileSync(auditPath(workspace), 'utf8');
  } catch {
    return 0;
  }
  const day = now.toISOString().slice(0, 10);
  let n = 0;
  for (const line of text.split('\n')) {
    if (!line.includes('"skill_generation"')) continue;
    try {
      const r = JSON.parse(line) as { kind?: unknown; origin?: unknown; timestamp?: unknown };
      if (r.kind === 'skill_generation' && r.origin !== 'approval' && !String(r.origin).startsWith('resumed:') && typeof r.timestamp === 'string' && r.timestamp.startsWith(day)) n++;
    } catch {
      // a torn line is not a generation
    }
  }
  return n;
}
