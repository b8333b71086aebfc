// The per-skill generation claim: one generation of a skill name at a time across every process
// on the data dir (`generate-skill` runs, `serve` resuming a queued answer, a Pulse job, the
// `skill_create` tool). The claim is a lease on the evolution lock's file format
// (staging/<name>/generation.lock, `operation=generate-skill:<origin> pid=… started_at=… host=…`):
// taken before the "does it exist / is one queued" checks and released when the generation
// ends or is queued, so check and act are one step. A holder that died (kill -9: its pid is gone
// on this host) or stopped refreshing the lease for CLAIM_STALE_SECS loses it to the next
// claimant; a file that is not a claim (garbage) is replaced at once.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../kernel/index.js';
import { emitEvent } from '../../observe/index.js';
import { EvolutionError } from '../errors.js';
import { EvolutionLock, type HeldLock, type LockStatus } from '../lock.js';
import { SkillLibrary } from './library.js';

/** The holder refreshes its claim this often… */
export const CLAIM_HEARTBEAT_SECS = 10;
/** …and a claim not refreshed for this long is taken as abandoned (pid reused, another host). */
export const CLAIM_STALE_SECS = 120;
/** A generation queued for a later model answer older than this is taken as lost. */
export const QUEUED_STALE_MS = 24 * 3600_000;

/** A generation of the skill is running or queued: nothing was started and nothing changed. */
export class SkillBusyError extends AppError {
  constructor(
    readonly skill: string,
    message: string,
    hint: string,
  ) {
    super('skill_generation_busy', message, { hint });
  }
}

function claimLock(lib: SkillLibrary): EvolutionLock {
  return new EvolutionLock(join(lib.stagingDir, 'generation.lock'), { staleAfterSecs: CLAIM_STALE_SECS, autoRecoverStale: true, heartbeatSecs: CLAIM_HEARTBEAT_SECS });
}

function runningError(lib: SkillLibrary, st: LockStatus): SkillBusyError {
  const by = st.operation?.startsWith('generate-skill:') ? st.operation.slice('generate-skill:'.length) : st.operation;
  const holder = [st.pid !== null ? `pid ${st.pid}` : '', st.started_at ? `started ${st.started_at}` : '', by ? `by ${by}` : ''].filter(Boolean).join(', ');
  return new SkillBusyError(lib.name, `a generation of skill '${lib.name}' is already running (${holder || 'claim ' + st.lock_path})`, `wait for it to finish; a claim whose holder died is recovered by the next generation (claim: ${st.lock_path})`);
}

/**
 * Claims the skill for one generation, or throws SkillBusyError naming the holder. The claim
 * file is recovered when its holder is dead, stale or not a claim at all.
 */
export function claimGeneration(lib: SkillLibrary, origin: string): HeldLock {
  const lock = claimLock(lib);
  try {
    mkdirSync(lib.stagingDir, { recursive: true });
    for (let i = 0; ; i++) {
      try {
        return lock.acquire(`generate-skill:${origin.replace(/\s+/g, '_')}`);
      } catch (err) {
        if (!(err instanceof EvolutionError && err.code === 'evolution_locked')) throw err;
        const st = lock.status();
        // Released between our try and our look: try again (a few times; then it is busy).
        if (!st.lock_exists && i < 5) continue;
        throw runningError(lib, st);
      }
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('skill_claim_failed', `cannot take the generation claim of skill '${lib.name}' (${lock.path}): ${(err as Error).message}`, { cause: err, hint: `remove ${lock.path} if it is not a file this program wrote` });
  }
}

/** A live claim on the skill (a generation running somewhere), or null. Never throws. */
export function runningGeneration(lib: SkillLibrary): LockStatus | null {
  try {
    const st = claimLock(lib).status();
    return st.lock_exists && st.stale !== true ? st : null;
  } catch {
    return null;
  }
}

/** Says why a claim-holding caller must not start: a live generation queued for the model. */
export function queuedGeneration(lib: SkillLibrary, nowMs = Date.now()): { since: string; requestId: string | null } | null {
  const file = join(lib.stagingDir, 'queued.json');
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    return null;
  }
  let requestId: string | null = null;
  try {
    const q = JSON.parse(readFileSync(file, 'utf8')) as { request_id?: unknown };
    requestId = typeof q.request_id === 'string' ? q.request_id : null;
  } catch {
    requestId = null;
  }
  return nowMs - mtimeMs < QUEUED_STALE_MS ? { since: new Date(mtimeMs).toISOString(), requestId } : null;
}

/**
 * Under the claim: refuses when a generation of the skill waits for a queued model answer; a
 * queued one older than QUEUED_STALE_MS is dropped (its answer, if it ever comes, is ignored).
 */
export function refuseIfQueued(lib: SkillLibrary): void {
  const q = queuedGeneration(lib);
  if (q) throw new SkillBusyError(lib.name, `a generation of skill '${lib.name}' is already queued for the model since ${q.since}${q.requestId ? ` (request ${q.requestId})` : ''}`, '`serve` completes it and reports to the operator');
  const file = join(lib.stagingDir, 'queued.json');
  try {
    statSync(file);
  } catch {
    return;
  }
  rmSync(file, { force: true });
  emitEvent('warning', { message: `skill '${lib.name}': a generation queued more than 24 h ago was dropped (its model answer never came); a new one starts` });
}

/**
 * Generations of other skills running now that claimed before `lib`'s claim (started earlier, or
 * at the same instant with a smaller name): they count against the daily budget before they are
 * recorded. Two claimants started together thus agree on which of them came first, so at most
 * the budget runs, and never both refuse.
 */
export function earlierRunningGenerations(lib: SkillLibrary): number {
  const mine = runningGeneration(lib)?.started_at ?? new Date().toISOString();
  let names: string[];
  try {
    names = readdirSync(join(lib.skillsDir, 'staging'));
  } catch {
    return 0;
  }
  let n = 0;
  for (const name of names) {
    if (name === lib.name) continue;
    let other: SkillLibrary;
    try {
      other = new SkillLibrary(lib.skillsDir, name);
    } catch {
      continue; // not a skill's directory
    }
    if (other.name !== name) continue;
    const at = runningGeneration(other)?.started_at;
    if (at && (at < mine || (at === mine && name < lib.name))) n++;
  }
  return n;
}
