// Issue 13 item 13: allowlist entries with a port open only that port, and stderr carries JSON
// lines only: Node's MaxListenersExceededWarning (many http calls in one run) and emscripten's
// own `Aborted(Assertion failed…)` print become events or never happen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkSkillUrl, parseAllowEntry, type Resolver } from '../src/net/url-policy.js';
import { getSkillEngine } from '../src/skills/engine.js';
import { setEventSink } from '../src/observe/index.js';
import { cleanEnv, runCli, tempDir } from './helpers.js';

const resolver: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];

test('an allowlist entry with a port opens that port only; without one, every port', async () => {
  const allowed = async (url: string, allow: string[]): Promise<boolean> => {
    try {
      return (await checkSkillUrl(url, { allow, resolver })).allowlisted;
    } catch {
      return false;
    }
  };
  assert.equal(await allowed('http://localhost:18090/', ['localhost:18090']), true);
  assert.equal(await allowed('http://localhost:18091/', ['localhost:18090']), false);
  assert.equal(await allowed('http://127.0.0.1:18091/', ['127.0.0.1:18090']), false);
  assert.equal(await allowed('http://127.0.0.1/', ['127.0.0.1:80']), true, 'the default port counts');
  assert.equal(await allowed('https://127.0.0.1/', ['127.0.0.1:80']), false);
  assert.equal(await allowed('http://[::1]:8080/', ['[::1]:8080']), true);
  assert.equal(await allowed('http://[::1]:8081/', ['[::1]:8080']), false);
  assert.equal(await allowed('http://localhost:9999/', ['localhost']), true, 'a bare host opens every port');
  assert.deepEqual(parseAllowEntry(' LocalHost:18090 '), { host: 'localhost', port: 18090 });
  assert.deepEqual(parseAllowEntry('::1'), { host: '::1', port: undefined });
  assert.deepEqual(parseAllowEntry('2130706433:81'), { host: '127.0.0.1', port: 81 });
});

test("emscripten's own output (an engine abort) becomes an event, not a raw stderr line", async () => {
  const events: string[] = [];
  const prevSink = setEventSink((l) => events.push(l));
  const raw: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    raw.push(String(chunk));
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    const mod = await getSkillEngine();
    const rt = mod.newRuntime();
    const ctx = rt.newContext();
    ctx.newObject(); // leaked on purpose: freeing the runtime then trips QuickJS's assertion
    ctx.dispose();
    assert.throws(() => rt.dispose(), /Aborted\(Assertion failed/);
  } finally {
    process.stderr.write = write;
    setEventSink(prevSink);
  }
  assert.deepEqual(raw, [], 'nothing reached stderr directly');
  const ev = events.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.event === 'skill_engine_output');
  assert.ok(ev && ev.stream === 'stderr' && /Aborted\(Assertion failed/.test(String(ev.message)), JSON.stringify(events));
});

test('a skill making 15 http calls at once and 15 in a row: stderr has JSON lines only', async () => {
  const server = createServer((req, res) => res.end(`ok ${req.url}`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const t = tempDir();
  try {
    mkdirSync(join(t.dir, 'workspace', 'skills'), { recursive: true });
    writeFileSync(
      join(t.dir, 'workspace', 'skills', 'many.js'),
      `async function main(a) { const ps = []; for (let i = 0; i < 15; i++) ps.push(http_get(a + '/p' + i)); const r = await Promise.all(ps); let n = 0; for (let i = 0; i < 15; i++) { await http_get(a + '/s' + i); n++ } return String(r.length + n) }\n`,
    );
    const env = cleanEnv(t.dir, { RUSTY_PINCH_SKILL_HTTP_ALLOW: `127.0.0.1:${port}`, RUSTY_PINCH_SKILL_MAX_HTTP_CALLS: '40' });
    const r = await runCli(['skills', 'run', '--name', 'many', '--args', `http://127.0.0.1:${port}`], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"output": "30"/);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.ok(lines.length > 0);
    for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `not a JSON line: ${l}`);
  } finally {
    server.closeAllConnections();
    server.close();
    t.cleanup();
  }
});
