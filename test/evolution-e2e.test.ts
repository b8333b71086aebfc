// End to end with a release package of this repo: stage it, apply it (the health check runs
// `doctor` through the real launcher), `rusty-pinch --version` prints the new version; a bad
// update rolls back to it; a running serve hands over to the new slot (exit 75 for its
// supervisor), confirms it at readiness, and a slot whose serve cannot start rolls back by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, freePort, runCli, startCli, tempDir } from './helpers.js';
import { packagedRelease } from './evolution-release.js';

function waitFor(stderr: () => string, needle: string, child: { exitCode: number | null }): Promise<void> {
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (stderr().includes(needle)) return resolve();
      if (child.exitCode !== null) return reject(new Error(`exited ${child.exitCode} before '${needle}':\n${stderr()}`));
      setTimeout(tick, 25);
    };
    tick();
  });
}

test('package → stage → apply → --version is new; a bad update rolls back to it', { timeout: 240_000 }, async () => {
  const t = tempDir('rp-evo-e2e-');
  try {
    const env = cleanEnv(t.dir, { RUSTY_PINCH_TEST: '1' });
    const good = packagedRelease(t.dir, '0.2.0');
    const st = await runCli(['evolution', 'stage-update', '--artifact', good.tarball, '--artifact-sha256', good.sha256], { env, timeoutMs: 60_000 });
    assert.equal(st.code, 0, st.stderr);
    const ap = await runCli(['evolution', 'apply-staged-update', '--confirm'], { env, timeoutMs: 90_000 });
    assert.equal(ap.code, 0, ap.stderr);
    const report = JSON.parse(ap.stdout);
    assert.equal(report.status, 'activated', ap.stdout);
    assert.match(report.report.healthcheck_stderr, /running update slot green \(version 0\.2\.0\)/);
    const v = await runCli(['--version'], { env });
    assert.equal(v.stdout.trim(), '0.2.0');
    assert.equal(v.stderr.trim(), 'rusty-pinch: running update slot green (version 0.2.0)');

    // The bad one: doctor fails in 0.3.0. Staged and applied by 0.2.0 (the code that now runs).
    const bad = packagedRelease(t.dir, '0.3.0', "if (process.argv[2] === 'doctor') { console.error('broken build'); process.exit(9); }");
    const st2 = await runCli(['evolution', 'stage-update', '--artifact', bad.tarball], { env, timeoutMs: 60_000 });
    assert.equal(st2.code, 0, st2.stderr);
    assert.equal(JSON.parse(st2.stdout).plan.current_version, '0.2.0');
    assert.equal(JSON.parse(st2.stdout).plan.passive_slot, 'blue');
    const ap2 = await runCli(['evolution', 'apply-staged-update', '--confirm'], { env, timeoutMs: 90_000 });
    const r2 = JSON.parse(ap2.stdout);
    assert.equal(r2.status, 'rolled_back', ap2.stderr);
    assert.equal(r2.report.healthcheck_exit_code, 9);
    assert.equal(r2.report.running, 'green');
    assert.equal((await runCli(['--version'], { env })).stdout.trim(), '0.2.0');
    const audit = await runCli(['evolution', 'audit-verify'], { env });
    assert.equal(audit.code, 0, audit.stderr);
    const stats = JSON.parse((await runCli(['stats'], { env })).stdout);
    assert.equal(stats.telemetry.evolution.last_apply_status, 'rolled_back');
    assert.equal(stats.telemetry.evolution.active_slot, 'green');
  } finally {
    t.cleanup();
  }
});

test('serve hands over after activation, confirms the new slot at readiness, and rolls back a slot it cannot start', { timeout: 300_000 }, async () => {
  const t = tempDir('rp-evo-serve-');
  const children: Array<ReturnType<typeof startCli>> = [];
  try {
    const port = await freePort();
    const env = cleanEnv(t.dir, { RUSTY_PINCH_TEST: '1', RUSTY_PINCH_OPS_ADDR: `127.0.0.1:${port}` });
    const serve1 = startCli(['serve'], env, 120_000);
    children.push(serve1);
    await waitFor(serve1.stderr, '"event":"serve_start"', serve1.child);

    const good = packagedRelease(t.dir, '0.2.0');
    assert.equal((await runCli(['evolution', 'stage-update', '--artifact', good.tarball], { env, timeoutMs: 60_000 })).code, 0);
    const ap = await runCli(['evolution', 'apply-staged-update', '--confirm'], { env: { ...env, RUSTY_PINCH_OPS_ADDR: 'off' }, timeoutMs: 90_000 });
    assert.equal(JSON.parse(ap.stdout).status, 'activated', ap.stderr);
    const r1 = await serve1.result;
    assert.equal(r1.code, 75, r1.stderr);
    assert.match(r1.stderr, /"event":"evolution_serve_handover".*active slot changed from installed to green/);

    // The supervisor starts it again: the launcher runs the new slot, readiness confirms it.
    const serve2 = startCli(['serve'], env, 120_000);
    children.push(serve2);
    await waitFor(serve2.stderr, '"event":"evolution_serve_confirmed"', serve2.child);
    assert.match(serve2.stderr(), /^rusty-pinch: running update slot green \(version 0\.2\.0\)$/m);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 200);
    const probation = JSON.parse(readFileSync(join(t.dir, 'workspace', 'updates', 'probation.json'), 'utf8'));
    assert.ok(probation.confirmed_at);
    assert.equal(probation.serve_starts, 1, 'the serve hands over only after the health check, so its restart counts');

    // 0.3.0 passes doctor but its serve cannot start: the second start rolls back to 0.2.0.
    const bad = packagedRelease(t.dir, '0.3.0', "if (process.argv[2] === 'serve') { console.error('serve broken'); process.exit(1); }");
    assert.equal((await runCli(['evolution', 'stage-update', '--artifact', bad.tarball], { env, timeoutMs: 60_000 })).code, 0);
    const ap2 = await runCli(['evolution', 'apply-staged-update', '--confirm'], { env: { ...env, RUSTY_PINCH_OPS_ADDR: 'off' }, timeoutMs: 90_000 });
    assert.equal(JSON.parse(ap2.stdout).status, 'activated', ap2.stderr);
    const r2 = await serve2.result;
    assert.equal(r2.code, 75, r2.stderr);
    const serve3 = await runCli(['serve'], { env, timeoutMs: 60_000 });
    assert.equal(serve3.code, 1);
    assert.match(serve3.stderr, /running update slot blue \(version 0\.3\.0\)/);
    assert.match(serve3.stderr, /serve broken/);
    const serve4 = startCli(['serve'], env, 120_000);
    children.push(serve4);
    await waitFor(serve4.stderr, '"event":"serve_start"', serve4.child);
    assert.match(serve4.stderr(), /rusty-pinch: serve on slot blue \(version 0\.3\.0\) did not become ready after activation; rolled back to green/);
    assert.match(serve4.stderr(), /running update slot green \(version 0\.2\.0\)/);
    assert.equal((await runCli(['--version'], { env })).stdout.trim(), '0.2.0');
    assert.equal(existsSync(join(t.dir, 'workspace', 'updates', 'probation.json')), false);
    const circuit = JSON.parse((await runCli(['evolution', 'failure-circuit-status'], { env })).stdout);
    assert.equal(circuit.report.consecutive_failures, 1);
    serve4.child.kill('SIGTERM');
    assert.equal((await serve4.result).code, 0);
  } finally {
    for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    t.cleanup();
  }
});
