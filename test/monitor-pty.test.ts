// Live monitor in a real pseudo-terminal (driven by python3's pty module; skipped without
// python3): q and Ctrl-C in raw mode stop it with exit 0, and the terminal modes and cursor
// are restored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CLI, cleanEnv, tempDir } from './helpers.js';
import { LEAVE_SCREEN } from '../src/monitor/live.js';

const DRIVER = String.raw`
import json, os, pty, select, sys, termios, time
node, cli, key = sys.argv[1], sys.argv[2], sys.argv[3].encode().decode('unicode_escape').encode()
pid, fd = pty.fork()
if pid == 0:
    os.execv(node, [node, cli, 'monitor', '--pid', str(os.getppid()), '--interval-ms', '50'])
buf = b''
def pump(until, pred):
    global buf
    while time.time() < until and not pred():
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                d = os.read(fd, 65536)
            except OSError:
                return
            if not d:
                return
            buf += d
pump(time.time() + 10, lambda: buf.count(b'Rusty Pinch Monitor') >= 2)
raw = not (termios.tcgetattr(fd)[3] & termios.ICANON)
os.write(fd, key)
pump(time.time() + 10, lambda: b'monitor stopped' in buf)
attrs = termios.tcgetattr(fd)
_, st = os.waitpid(pid, 0)
print(json.dumps({'exit': os.WEXITSTATUS(st) if os.WIFEXITED(st) else -1, 'raw_while_running': raw,
  'canonical_after': bool(attrs[3] & termios.ICANON), 'echo_after': bool(attrs[3] & termios.ECHO),
  'out': buf.decode('utf-8', 'replace')}))
`;

const hasPython = spawnSync('python3', ['-c', 'import pty, termios'], { stdio: 'ignore' }).status === 0;

test('live monitor in a pty: q and Ctrl-C stop it and restore the terminal', { skip: !hasPython && 'python3 not available' }, () => {
  const { dir, cleanup } = tempDir('rp-monpty-');
  try {
    for (const key of ['q', '\\x03']) {
      const r = spawnSync('python3', ['-c', DRIVER, process.execPath, CLI, key], { env: cleanEnv(dir), encoding: 'utf8', timeout: 25_000 });
      assert.equal(r.status, 0, r.stderr);
      const res = JSON.parse(r.stdout) as { exit: number; raw_while_running: boolean; canonical_after: boolean; echo_after: boolean; out: string };
      assert.equal(res.exit, 0, res.out.slice(-300));
      assert.equal(res.raw_while_running, true, 'raw mode while running (a TTY stdin)');
      assert.equal(res.canonical_after, true, 'canonical mode restored');
      assert.equal(res.echo_after, true, 'echo restored');
      assert.ok(res.out.includes(`${LEAVE_SCREEN}monitor stopped`), `cursor shown and main screen back (${key})`);
      assert.match(res.out, /cpu  \[[▁▂▃▄▅▆▇█ ]+\]/);
    }
  } finally {
    cleanup();
  }
});
