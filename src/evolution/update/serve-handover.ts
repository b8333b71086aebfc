// How a running `serve` follows an activation. We chose "exit for the supervisor": Node cannot
// exec() in place, and a re-spawned child would change the PID systemd and compose track. So
// serve watches the marker; when it points somewhere other than what this process runs, serve
// drains its turns (the normal SIGTERM path) and exits with 75 (EX_TEMPFAIL), and the supervisor
// (Restart=on-failure / restart: unless-stopped) starts it again through the launcher, which
// picks the new slot. On a slot still on probation, the first readiness confirms the slot; a
// start that fails or does not get ready within the limit rolls back and exits 75 as well.
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { emitEvent } from '../../observe/index.js';
import { confirmProbation, readProbation, rollBack } from './activate.js';
import { auditUpdateOutsideLock, type UpdateContext } from './context.js';
import { IN_PROGRESS, readManifest } from './manifest.js';

export const RESTART_EXIT_CODE = 75;

export interface ServeHandover {
  /** Aborts when serve should stop for a hand-over. */
  signal: AbortSignal;
  /** Set once a hand-over (new slot or rollback) was decided. */
  readonly reason: string | undefined;
  /** Call when serve reached readiness. */
  ready(): void;
  /** Call when serve failed before readiness: rolls back a slot on probation. Returns true if it did. */
  failed(error: string): boolean;
  close(): void;
}

function markerNow(updates: string): string {
  try {
    return readFileSync(join(updates, 'active-slot'), 'utf8').trim() || 'installed';
  } catch {
    return 'installed';
  }
}

export function serveHandover(ctx: UpdateContext, opts: { runningSlot: string; readyTimeoutMs: number; pollMs?: number }): ServeHandover {
  const ac = new AbortController();
  let reason: string | undefined;
  let isReady = false;
  const runningSlot = opts.runningSlot;
  const probation = (): ReturnType<typeof readProbation> => {
    const p = readProbation(ctx);
    return p && p.slot === runningSlot && !p.confirmed_at ? p : undefined;
  };
  const handOver = (why: string): void => {
    if (reason) return;
    reason = why;
    emitEvent('evolution_serve_handover', { running_slot: runningSlot, reason: why, exit_code: RESTART_EXIT_CODE });
    ac.abort();
  };
  const rollBackNow = (error: string): boolean => {
    const p = probation();
    if (!p) return false;
    const running = rollBack(ctx, p.previous_slot, runningSlot);
    const msg = `serve on slot ${runningSlot} (version ${p.version}) ${error}; rolled back to ${running}`;
    auditUpdateOutsideLock(ctx, 'serve_rollback', readManifest(ctx.manifestPath), { rollback_performed: true, healthcheck_ok: false, error: msg });
    ctx.circuit.failure('rolled_back', msg);
    handOver(msg);
    return true;
  };
  // Hand over only once an apply has finished: during its health check the marker already points
  // at the new slot, and that check may still roll it back.
  const applyInProgress = (): boolean => {
    try {
      const m = readManifest(ctx.manifestPath);
      return Boolean(m && (IN_PROGRESS as readonly string[]).includes(m.status));
    } catch {
      return false;
    }
  };
  const check = (): void => {
    if (reason) return;
    const now = markerNow(ctx.updates);
    if (now !== runningSlot && !applyInProgress()) handOver(`active slot changed from ${runningSlot} to ${now}`);
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(ctx.updates, { persistent: false }, (_e, name) => {
      if (!name || /^(active-slot|blue-green-staged|probation)/.test(String(name))) check();
    });
  } catch {
    watcher = undefined; // the poll below still sees it
  }
  const poll = setInterval(check, opts.pollMs ?? 5000);
  poll.unref();
  const deadline = probation()
    ? setTimeout(() => {
        if (!isReady) rollBackNow(`did not become ready within ${Math.round(opts.readyTimeoutMs / 1000)} s after activation`);
      }, opts.readyTimeoutMs)
    : undefined;
  deadline?.unref();
  return {
    signal: ac.signal,
    get reason() {
      return reason;
    },
    ready() {
      if (isReady) return;
      isReady = true;
      if (deadline) clearTimeout(deadline);
      const p = probation() ? confirmProbation(ctx) : undefined;
      if (p) {
        auditUpdateOutsideLock(ctx, 'serve_confirmed', readManifest(ctx.manifestPath), { healthcheck_ok: true, error: null });
        emitEvent('evolution_serve_confirmed', { slot: p.slot, version: p.version });
      }
    },
    failed(error: string) {
      return rollBackNow(`failed before readiness: ${error}`);
    },
    close() {
      watcher?.close();
      clearInterval(poll);
      if (deadline) clearTimeout(deadline);
    },
  };
}
