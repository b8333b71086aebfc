// The evolution audit record of a skill generation: one record appended to the keyed,
// hash-chained log the self-update work keeps (WS/updates/evolution-audit.jsonl), signed with
// the same key (RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY) when one is configured, so
// `evolution audit-verify`-style checks cover skills and updates as one chain. Each append
// holds the evolution operation lock (updates/evolution.lock) for a moment, the lock every
// update operation holds while it appends, so the two kinds of record never fork the chain.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AuditChain } from '../audit-chain.js';
import { AUDIT_APPEND_OPERATION, EvolutionLock } from '../lock.js';
import { evolutionSettings } from '../settings.js';

/** Longest wait for an update operation (stage, apply with its health check) to release the lock. */
export const SKILL_AUDIT_LOCK_WAIT_MS = 5 * 60_000;

export function auditPath(workspace: string): string {
  return join(workspace, 'updates', 'evolution-audit.jsonl');
}

/** Appends one record under a brief hold of the evolution lock; returns its hash. */
export async function appendSkillAudit(workspace: string, fields: Record<string, unknown>, env: Record<string, string | undefined> = {}, waitMs = SKILL_AUDIT_LOCK_WAIT_MS): Promise<string> {
  const path = auditPath(workspace);
  mkdirSync(dirname(path), { recursive: true });
  const s = evolutionSettings(env, workspace);
  const chain = new AuditChain({ path, key: s.manifestKey, keyring: s.manifestKeyring });
  const lock = new EvolutionLock(join(dirname(path), 'evolution.lock'), { staleAfterSecs: s.lockStaleAfterSecs, autoRecoverStale: s.autoRecoverStaleLock });
  return lock.holdBriefly(AUDIT_APPEND_OPERATION, () => chain.append({ timestamp: new Date().toISOString(), kind: 'skill_generation', ...fields }), waitMs);
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
