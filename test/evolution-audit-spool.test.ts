// A skill audit record is never dropped: while an update operation holds the evolution lock
// (for longer than the patience, injected here instead of 5 real minutes) the record waits in
// the spool (updates/audit-pending/) and lands when the lock frees; a record whose process died
// while waiting lands with the next append; nothing is appended twice; garbage in the spool is
// set aside with a warning; many waiting appenders leave one chain that verifies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditChain } from '../src/evolution/audit-chain.js';
import { EvolutionLock } from '../src/evolution/lock.js';
import { setEventSink } from '../src/observe/index.js';
import { appendSkillAudit, auditPath, auditSpoolDir } from '../src/evolution/skills/index.js';
import { ROOT, processGone, tempDir } from './helpers.js';
import { spooled } from './evolution-helpers.js';

function updateLock(ws: string): EvolutionLock {
  mkdirSync(join(ws, 'updates'), { recursive: true });
  return new EvolutionLock(join(ws, 'updates', 'evolution.lock'), { staleAfterSecs: 900, autoRecoverStale: true });
}

function records(ws: string): Array<Record<string, unknown>> {
  assert.ok(new AuditChain({ path: auditPath(ws) }).verify().valid);
  return readFileSync(auditPath(ws), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A child process appending `count` skill records named `<tag>-<i>`; resolves with its exit. */
function appender(dir: string, ws: string, tag: string, count: number): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const file = join(dir, `spool-appender-${tag}.mts`);
  writeFileSync(
    file,
    [
      `import { appendSkillAudit } from ${JSON.stringify(join(ROOT, 'src', 'evolution', 'skills', 'index.ts'))};`,
      `for (let i = 0; i < ${count}; i++) await appendSkillAudit(${JSON.stringify(ws)}, { skill: ${JSON.stringify(tag)} + '-' + i, status: 'promoted' });`,
    ].join('\n'),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, RUSTY_PINCH_TEST: '1' } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, done: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr }))) };
}

test('an update holding the lock past the patience: the record waits (a warning, kept in the spool), never dropped, and lands when the lock frees', { timeout: 60_000 }, async () => {
  const t = tempDir('rp-evo-spool-');
  let warned!: (line: string) => void;
  const warning = new Promise<string>((r) => (warned = r));
  const prev = setEventSink((l) => {
    if (l.includes('"event":"warning"')) warned(l);
  });
  try {
    const ws = join(t.dir, 'workspace');
    await appendSkillAudit(ws, { skill: 'before' });
    const held = updateLock(ws).acquire('apply-staged-update');
    let landed = false;
    const pending = appendSkillAudit(ws, { skill: 'long-wait', status: 'promoted' }, {}, 20).then((h) => ((landed = true), h));
    const line = await warning;
    assert.match(line, /the skill audit record of 'long-wait' waits for the evolution lock \(another evolution operation is already in progress: operation=apply-staged-update .*\); it is kept in .*audit-pending.* and appended when the lock frees/);
    const [entry] = await spooled(ws, 1);
    assert.equal((JSON.parse(readFileSync(join(auditSpoolDir(ws), entry!), 'utf8')) as { skill: string }).skill, 'long-wait');
    assert.equal(records(ws).length, 1, 'not appended while the operation holds the lock');
    assert.equal(landed, false);
    held.release();
    const hash = await pending;
    const all = records(ws);
    assert.deepEqual(all.map((r) => r.skill), ['before', 'long-wait']);
    assert.equal(all[1]!.hash, hash);
    assert.deepEqual(readdirSync(auditSpoolDir(ws)), []);
  } finally {
    setEventSink(prev);
    t.cleanup();
  }
});

test("a record whose appender was kill -9'd while waiting lands with the next append, before it", { timeout: 120_000 }, async () => {
  const t = tempDir('rp-evo-spool-kill-');
  const prev = setEventSink(() => undefined);
  try {
    const ws = join(t.dir, 'workspace');
    const held = updateLock(ws).acquire('apply-staged-update');
    const a = appender(t.dir, ws, 'orphan', 1);
    await spooled(ws, 1);
    a.child.kill('SIGKILL');
    assert.equal((await a.done).signal, 'SIGKILL');
    assert.ok(await processGone(a.child.pid!, 30_000));
    held.release();
    await appendSkillAudit(ws, { skill: 'next' });
    assert.deepEqual(records(ws).map((r) => r.skill), ['orphan-0', 'next']);
    assert.deepEqual(readdirSync(auditSpoolDir(ws)), []);
  } finally {
    setEventSink(prev);
    t.cleanup();
  }
});

test('a spooled record already in the chain is not appended twice; garbage in the spool is set aside with a warning', async () => {
  const t = tempDir('rp-evo-spool-garbage-');
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  try {
    const ws = join(t.dir, 'workspace');
    await appendSkillAudit(ws, { skill: 'once' });
    const [first] = records(ws);
    // Its appender died after the append, before removing the spool file.
    const spool = auditSpoolDir(ws);
    mkdirSync(spool, { recursive: true });
    const { hash: _h, hash_alg: _a, key_id: _k, prev_hash: _p, ...fields } = first!;
    writeFileSync(join(spool, `${Date.now()}-1-${String(first!.audit_id)}.json`), JSON.stringify(fields));
    const junk = [`${Date.now()}-2-00000000-0000-0000-0000-000000000001.json`, `${Date.now()}-3-00000000-0000-0000-0000-000000000002.json`, `${Date.now()}-4-00000000-0000-0000-0000-000000000003.json`];
    writeFileSync(join(spool, junk[0]!), '{"torn": ');
    writeFileSync(join(spool, junk[1]!), '[1,2,3]');
    writeFileSync(join(spool, junk[2]!), '\u0000\u00ff');
    writeFileSync(join(spool, 'not-an-entry.txt'), 'ignored');
    await appendSkillAudit(ws, { skill: 'after' });
    assert.deepEqual(records(ws).map((r) => r.skill), ['once', 'after']);
    assert.deepEqual(readdirSync(spool).sort(), [...junk.map((j) => `${j}.corrupt`), 'not-an-entry.txt'].sort());
    assert.equal(lines.filter((l) => l.includes('"event":"warning"') && l.includes('spooled skill audit record is unreadable')).length, 3);
    // The next append leaves the set-aside files alone.
    await appendSkillAudit(ws, { skill: 'again' });
    assert.equal(records(ws).length, 3);
    assert.ok(existsSync(join(spool, `${junk[0]}.corrupt`)));
  } finally {
    setEventSink(prev);
    t.cleanup();
  }
});

test('appenders in parallel processes, all spooled behind a long update, leave every record once in a chain that verifies', { timeout: 180_000 }, async () => {
  const t = tempDir('rp-evo-spool-many-');
  try {
    const ws = join(t.dir, 'workspace');
    const held = updateLock(ws).acquire('apply-staged-update');
    const tags = ['a', 'b', 'c'];
    const children = tags.map((tag) => appender(t.dir, ws, tag, 6));
    await spooled(ws, tags.length);
    held.release();
    for (const r of await Promise.all(children.map((c) => c.done))) assert.equal(r.code, 0, r.stderr.slice(-2000));
    const skills = records(ws).map((r) => String(r.skill));
    assert.equal(skills.length, tags.length * 6);
    assert.equal(new Set(skills).size, skills.length, 'no record twice');
    for (const tag of tags) assert.deepEqual(skills.filter((s) => s.startsWith(`${tag}-`)), [0, 1, 2, 3, 4, 5].map((i) => `${tag}-${i}`), 'each process in its order');
    assert.deepEqual(readdirSync(auditSpoolDir(ws)), []);
  } finally {
    t.cleanup();
  }
});
