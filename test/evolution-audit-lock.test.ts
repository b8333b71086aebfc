// Skill and update records share one hash chain (updates/evolution-audit.jsonl). Every append
// holds the evolution operation lock: an update operation for its whole run, a skill generation
// and serve's confirm/rollback for a moment. Processes appending at once (skill style, update
// style, serve style) leave a chain that verifies with every record in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AuditChain } from '../src/evolution/audit-chain.js';
import { AUDIT_APPEND_OPERATION, EvolutionLock } from '../src/evolution/lock.js';
import { auditUpdateOutsideLock, openUpdateContext } from '../src/evolution/update/context.js';
import { setEventSink } from '../src/observe/index.js';
import { appendSkillAudit, auditPath, auditSpoolDir } from '../src/evolution/skills/index.js';
import { ROOT, tempDir } from './helpers.js';
import { spooled } from './evolution-helpers.js';

const PER_PROCESS = 25;

/** A child process appending PER_PROCESS records in the given style; resolves with its exit code. */
function appender(dir: string, style: 'skill' | 'update' | 'serve'): Promise<{ code: number | null; stderr: string }> {
  const src = (p: string) => JSON.stringify(join(ROOT, 'src', p));
  const script = [
    `import { appendSkillAudit } from ${src('evolution/skills/index.ts')};`,
    `import { openUpdateContext, auditUpdate, auditUpdateOutsideLock } from ${src('evolution/update/context.ts')};`,
    `const ws = ${JSON.stringify(join(dir, 'workspace'))};`,
    `const ctx = openUpdateContext({ env: {}, workspace: ws, runningVersion: '0.1.0', currentBinary: 'x' });`,
    `for (let i = 0; i < ${PER_PROCESS}; i++) {`,
    `  if (${JSON.stringify(style)} === 'skill') await appendSkillAudit(ws, { skill: 's' + process.pid + '-' + i, status: 'promoted' });`,
    `  else if (${JSON.stringify(style)} === 'serve') auditUpdateOutsideLock(ctx, 'serve_confirmed', undefined, { healthcheck_ok: true });`,
    `  else {`,
    // An update operation: take the lock (retrying while someone else has it), append, release.
    `    let held;`,
    `    while (!held) { try { held = ctx.lock.acquire('stage-update'); } catch (e) { if (e.code !== 'evolution_locked') throw e; await new Promise((r) => setTimeout(r, 1)); } }`,
    `    try { auditUpdate(ctx, 'stage', undefined); } finally { held.release(); }`,
    `  }`,
    `}`,
  ].join('\n');
  const file = join(dir, `appender-${style}-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(file, script);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, RUSTY_PINCH_TEST: '1' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('skill, update and serve appenders in parallel processes leave one chain that verifies (starting from a dead holder\'s lock)', { timeout: 180_000 }, async () => {
  const t = tempDir('rp-evo-audit-lock-');
  try {
    // A holder that died (kill -9) left its lock: exactly one appender recovers it.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    mkdirSync(join(t.dir, 'workspace', 'updates'), { recursive: true });
    writeFileSync(join(t.dir, 'workspace', 'updates', 'evolution.lock'), `operation=apply-staged-update pid=${dead} started_at=2026-01-01T00:00:00Z host=${hostname()}\n`);
    const styles = ['skill', 'update', 'serve', 'skill'] as const;
    const results = await Promise.all(styles.map((s) => appender(t.dir, s)));
    for (const r of results) assert.equal(r.code, 0, r.stderr.slice(-2000));
    const recovered = results.flatMap((r) => r.stderr.split('\n')).filter((l) => l.includes('"event":"evolution_lock_recovered"'));
    assert.equal(recovered.length, 1, recovered.join('\n'));
    const chain = new AuditChain({ path: auditPath(join(t.dir, 'workspace')) });
    const report = chain.verify();
    assert.equal(report.entries, styles.length * PER_PROCESS, 'no record lost');
    const lock = new EvolutionLock(join(t.dir, 'workspace', 'updates', 'evolution.lock'), { staleAfterSecs: 900, autoRecoverStale: true });
    assert.equal(lock.status().lock_exists, false, 'every brief hold was released');
  } finally {
    t.cleanup();
  }
});

test('a skill record waits while an update operation holds the lock, then lands after it', async () => {
  const t = tempDir('rp-evo-audit-wait-');
  try {
    const ws = join(t.dir, 'workspace');
    await appendSkillAudit(ws, { skill: 'first' });
    const lock = new EvolutionLock(join(ws, 'updates', 'evolution.lock'), { staleAfterSecs: 900, autoRecoverStale: true });
    const held = lock.acquire('apply-staged-update');
    // Waits while held; lands once the operation releases.
    let landed = false;
    const pending = appendSkillAudit(ws, { skill: 'patient' }).then(() => (landed = true));
    await spooled(ws, 1);
    assert.equal(landed, false, 'not while the operation holds the lock');
    held.release();
    await pending;
    const report = new AuditChain({ path: auditPath(ws) }).verify();
    assert.equal(report.entries, 2);
    assert.equal(lock.status().lock_exists, false);
    assert.deepEqual(readdirSync(auditSpoolDir(ws)), [], 'the spool is empty');
  } finally {
    t.cleanup();
  }
});

test("serve's record beside a running update operation: waits its bound, then appends with a warning (never lost)", async () => {
  const t = tempDir('rp-evo-audit-serve-');
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  try {
    const ws = join(t.dir, 'workspace');
    const ctx = openUpdateContext({ env: {}, workspace: ws, runningVersion: '0.1.0', currentBinary: 'x' });
    const held = ctx.lock.acquire('apply-staged-update');
    try {
      let ran = false;
      assert.equal(ctx.lock.holdBrieflySync(AUDIT_APPEND_OPERATION, () => (ran = true), 30), false);
      assert.equal(ran, false, 'an operation holds it: gave up without running');
      auditUpdateOutsideLock(ctx, 'serve_confirmed', undefined, { healthcheck_ok: true });
    } finally {
      held.release();
    }
    assert.ok(lines.some((l) => l.includes('"event":"warning"') && l.includes("audit record 'serve_confirmed' appended beside it")), lines.join('\n'));
    auditUpdateOutsideLock(ctx, 'serve_confirmed', undefined, { healthcheck_ok: true });
    assert.equal(ctx.audit.verify().entries, 2);
    assert.equal(ctx.lock.status().lock_exists, false);
  } finally {
    setEventSink(prev);
    t.cleanup();
  }
});
