// Streaming a session (`session --session`): the same bytes as the in-memory pretty JSON array,
// chunk boundaries anywhere, a partial last line left out, concurrent appenders never leaving
// blank lines, and readers silent about a line still being written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SessionStore, countLines } from '../src/store/index.js';
import { writeJsonArray } from '../src/cli/stream-json.js';
import { setEventSink } from '../src/observe/index.js';
import { ROOT, tempDir } from './helpers.js';

async function collect(items: AsyncIterable<{ role: string; content: string; timestamp: string }>): Promise<string> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  await writeJsonArray(out, items, (r) => ({ role: r.role, content: r.content, timestamp: r.timestamp }));
  return text;
}

test('stream() gives the bytes of the pretty JSON array, in chunks, without a partial last line', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const store = new SessionStore(dir, { fsync: false });
    const recs = Array.from({ length: 3000 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `m${i} "quoted"\nline ✓ ${'x'.repeat(i % 300)}`, timestamp: 't' }));
    await store.append('s', ...recs);
    appendFileSync(join(dir, 's.jsonl'), '{"role":"user","content":"still being wr');
    const expected = JSON.stringify(recs, null, 2) + '\n';
    assert.equal(await collect(store.stream('s')), expected);
    assert.equal(await collect(store.stream('missing')), '[]\n');
    writeFileSync(join(dir, 'empty.jsonl'), '');
    assert.equal(await collect(store.stream('empty')), '[]\n');
    assert.equal(countLines(join(dir, 's.jsonl')).lines, 3000);
    await store.close();
  } finally {
    cleanup();
  }
});

test('concurrent appenders in several processes leave whole lines, no blank ones; readers stay silent', async () => {
  const { dir, cleanup } = tempDir();
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  try {
    const file = join(dir, 'shared.jsonl');
    const code = `import { appendLines } from ${JSON.stringify(join(ROOT, 'src/store/jsonl.ts'))};
      for (let i = 0; i < 300; i++) appendLines(${JSON.stringify(file)}, [{ role: 'user', content: process.argv[1] + ':' + i + ':' + 'y'.repeat(i * 37 % 9000), timestamp: 't' }], { fsync: false });`;
    const procs = Array.from({ length: 4 }, (_, w) => spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, `w${w}`], { cwd: ROOT, stdio: 'inherit' }));
    const store = new SessionStore(dir, { fsync: false });
    let reads = 0;
    const exited = Promise.all(procs.map((p) => new Promise((r) => p.on('close', r))));
    let done = false;
    void exited.then(() => (done = true));
    while (!done) {
      store.tail('shared', 20);
      reads++;
      await new Promise((r) => setImmediate(r));
    }
    const text = readFileSync(file, 'utf8');
    const all = text.split('\n').slice(0, -1);
    assert.equal(all.length, 1200);
    assert.ok(all.every((l) => l.trim() !== '' && JSON.parse(l).role === 'user'));
    assert.ok(reads > 0);
    assert.ok(!lines.some((l) => l.includes('session_corrupt_line')), 'no warning about a line being written');
  } finally {
    setEventSink(prev);
    cleanup();
  }
});
