// The event catalogue: every emitted name is declared once with its fields (the compiler checks
// each call against it); no declared name is dead; names are snake_case; lines are one JSON
// object with `event` first and secrets redacted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { emitEvent, emitWarning, setEventSink } from '../src/observe/index.js';
import { registerSecrets } from '../src/kernel/index.js';

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const catalogue = readFileSync('src/observe/event-catalogue.ts', 'utf8');
const declared = [...catalogue.matchAll(/^ {2}([a-z_]+): /gm)].map((m) => m[1]!);

test('catalogue: snake_case names, each declared once, none dead', () => {
  assert.ok(declared.length >= 50, `found ${declared.length} names`);
  assert.equal(new Set(declared).size, declared.length, 'declared twice');
  for (const n of declared) assert.match(n, /^[a-z]+(_[a-z]+)*$/);
  const code = sources('src').filter((f) => !f.endsWith('event-catalogue.ts')).map((f) => readFileSync(f, 'utf8')).join('\n');
  const used = new Set([...code.matchAll(/emitEvent\(\s*(?:[^'(),]*\?\s*)?'([a-z_]+)'(?:\s*:\s*'([a-z_]+)')?/g)].flatMap((m) => [m[1]!, m[2]].filter((x): x is string => !!x)));
  if (/emitWarning\(/.test(code)) used.add('warning');
  assert.deepEqual(declared.filter((n) => !used.has(n)), [], 'declared but never emitted');
  assert.deepEqual([...used].filter((n) => !declared.includes(n)), [], 'emitted but not declared');
});

test('lines: one JSON object per line, event first, secrets redacted by value', () => {
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  try {
    registerSecrets(['catalogue-secret-value-123']);
    emitEvent('channel_duplicate', { channel: 'telegram', chat_id: '5', message_id: null, update_id: 9 });
    emitWarning('token catalogue-secret-value-123 leaked?', { path: '/x' });
  } finally {
    setEventSink(prev);
  }
  assert.equal(lines.length, 2);
  assert.ok(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n')));
  assert.deepEqual(JSON.parse(lines[0]!), { event: 'channel_duplicate', channel: 'telegram', chat_id: '5', message_id: null, update_id: 9 });
  assert.ok(lines[0]!.startsWith('{"event":"channel_duplicate"'));
  assert.ok(!lines[1]!.includes('catalogue-secret-value-123'));
});

test('stderr lines: info lines batched per loop turn, warnings at once, all written in order by exit', async () => {
  const { spawnSync } = await import('node:child_process');
  const { writeFileSync } = await import('node:fs');
  const { tempDir, ROOT } = await import('./helpers.js');
  const { dir, cleanup } = tempDir();
  try {
    const script = join(dir, 'emit.mts');
    writeFileSync(
      script,
      `import { emitEvent, emitWarning } from ${JSON.stringify(join(ROOT, 'src/observe/index.ts'))};
import { writeSync } from 'node:fs';
emitEvent('ops_listening', { addr: 'a1', endpoints: [] });
emitEvent('ops_listening', { addr: 'a2', endpoints: [] });
// Not yet written: the info lines wait for the end of this loop turn.
writeSync(2, 'MARK\\n');
emitWarning('w1');
emitEvent('ops_listening', { addr: 'a3', endpoints: [] });
await new Promise((r) => setImmediate(r));
emitEvent('ops_listening', { addr: 'a4', endpoints: [] });
if (process.argv[2] === 'exit') process.exit(3);`,
    );
    for (const mode of ['exit', 'natural']) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', script, mode], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, mode === 'exit' ? 3 : 0, r.stderr);
      const got = r.stderr.trim().split('\n').map((l) => (l === 'MARK' ? l : (JSON.parse(l).addr ?? JSON.parse(l).message)));
      assert.deepEqual(got, ['MARK', 'a1', 'a2', 'w1', 'a3', 'a4'], mode);
    }
  } finally {
    cleanup();
  }
});
