// Issue 13 items 6 and 9 through the real CLI: a garbage ops address is refused (serve exits 1,
// doctor reports it), a flood of idle sockets cannot starve /healthz, and serve with nothing to
// host still runs until it is signalled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { cleanEnv, events, freePort, runCli, startCli, tempDir } from './helpers.js';

async function waitForEvent(stderr: () => string, name: string, exited: () => boolean): Promise<void> {
  for (;;) {
    if (events(stderr()).some((e) => e.event === name)) return;
    if (exited()) throw new Error(`exited before ${name}: ${stderr().slice(-800)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('a garbage RUSTY_PINCH_OPS_ADDR: serve exits 1 with a clear error, doctor reports it', async () => {
  const t = tempDir('rp-ops-bad-');
  try {
    for (const bad of ['garbage', '127.0.0.1:99999', 'http://x:1']) {
      const env = cleanEnv(t.dir, { RUSTY_PINCH_OPS_ADDR: bad });
      const r = await runCli(['serve'], { env });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^Error: RUSTY_PINCH_OPS_ADDR=.* is not an address/m);
      assert.ok(!events(r.stderr).some((e) => e.event === 'ops_listening'), 'nothing was bound');
      const d = await runCli(['doctor', '--json'], { env });
      const report = JSON.parse(d.stdout) as { status: string; checks: Array<{ level: string; message: string }> };
      assert.equal(report.status, 'error');
      assert.ok(report.checks.some((c) => c.level === 'error' && /RUSTY_PINCH_OPS_ADDR/.test(c.message)));
    }
  } finally {
    t.cleanup();
  }
});

test('serve with no channel, ops off and provider local runs until SIGTERM, then exits 0', async () => {
  const t = tempDir('rp-serve-idle-');
  const serve = startCli(['serve'], cleanEnv(t.dir, { RUSTY_PINCH_OPS_ADDR: 'off' }));
  let exited = false;
  void serve.result.then(() => (exited = true));
  try {
    await waitForEvent(serve.stderr, 'serve_start', () => exited);
    // If serve had nothing keeping it alive it would exit by itself right after serve_start;
    // wait for a later event that only a live loop produces: the answer to our signal.
    assert.equal(exited, false);
    serve.child.kill('SIGTERM');
    const r = await serve.result;
    assert.equal(r.code, 0, r.stderr.slice(-800));
    const names = events(r.stderr).map((e) => e.event);
    assert.ok(names.includes('channel_signal') && names.includes('serve_stopping'), names.join(','));
  } finally {
    serve.child.kill('SIGKILL');
    t.cleanup();
  }
});

test('1,100 idle sockets on the ops port: /healthz still answers and serve keeps few open', async () => {
  const t = tempDir('rp-ops-flood-');
  const port = await freePort();
  const serve = startCli(['serve'], cleanEnv(t.dir, { RUSTY_PINCH_OPS_ADDR: `127.0.0.1:${port}` }));
  const sockets: Socket[] = [];
  let exited = false;
  void serve.result.then(() => (exited = true));
  try {
    await waitForEvent(serve.stderr, 'serve_start', () => exited);
    let closed = 0;
    for (let i = 0; i < 1100; i++) {
      const s = await new Promise<Socket>((resolve) => {
        const c = connect(port, '127.0.0.1', () => resolve(c));
        c.on('error', () => resolve(c));
      });
      s.resume(); // read what the server sends, so its close is seen
      s.once('close', () => closed++);
      sockets.push(s);
    }
    const h = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(15_000) });
    assert.equal(h.status, 200);
    assert.equal(await h.text(), 'ok\n');
    // The server closed all but its cap of idle connections.
    for (;;) {
      if (1100 - closed <= 64) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(exited, false);
  } finally {
    for (const s of sockets) s.destroy();
    serve.child.kill('SIGTERM');
    await serve.result;
    t.cleanup();
  }
});
