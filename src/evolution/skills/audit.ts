// The evolution audit record of a skill generation: one line appended to the hash-chained log
// the self-update work keeps (WS/updates/evolution-audit.jsonl). Same record format as that
// chain's unkeyed mode (sha256 over the sorted entries plus prev_hash), so its verifier reads
// these lines; once the keyed chain is on main, this is replaced by its append.
import { appendFileSync, closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { withFileLock } from '../../store/index.js';

export function auditPath(workspace: string): string {
  return join(workspace, 'updates', 'evolution-audit.jsonl');
}

function canonicalPayload(record: Record<string, unknown>): string {
  const entries = Object.keys(record)
    .filter((k) => k !== 'hash')
    .sort()
    .map((k) => [k, record[k] ?? null]);
  return JSON.stringify(entries);
}

function lastHash(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    const span = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(span);
    readSync(fd, buf, 0, span, size - span);
    const lines = buf.toString('utf8').split('\n').filter((l) => l.trim() !== '');
    const last = lines[lines.length - 1];
    if (!last) return null;
    const hash = (JSON.parse(last) as { hash?: unknown }).hash;
    return typeof hash === 'string' ? hash : null;
  } finally {
    closeSync(fd);
  }
}

/** Appends one record under the log's lock; returns its hash. */
export async function appendSkillAudit(workspace: string, fields: Record<string, unknown>): Promise<string> {
  const path = auditPath(workspace);
  mkdirSync(dirname(path), { recursive: true });
  return withFileLock(path, async () => {
    const record: Record<string, unknown> = { timestamp: new Date().toISOString(), kind: 'skill_generation', ...fields, hash_alg: 'sha256', key_id: null, prev_hash: lastHash(path) };
    record.hash = createHash('sha256').update(canonicalPayload(record)).digest('hex');
    appendFileSync(path, JSON.stringify(record) + '\n', { mode: 0o600 });
    return record.hash as string;
  });
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
