// Issue 13 item 5: session ids map to file names injectively, while the ids the original
// produced (plain ids, telegram:<chat>, whatsapp:<jid>) keep the original's file names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SessionStore, legacySessionFileName, sanitizeSessionId, validateSessionId } from '../src/store/index.js';
import { tempDir } from './helpers.js';

const PROBE_IDS = ['会话', '世界', 'a:b', 'a∕b', 'a／b', 'a\u202eb', 'a_b', 'a.b', 'a b', 'a%3Ab', 'a%5Fb', 'a~b', 'telegram_123', 'telegram:123', 'whatsapp:1@g.us', 'whatsapp_1_g_us', 'A', 'a', '-', '_', '%', '~'];

test('the probe ids that collided now get distinct files', () => {
  const names = new Map<string, string>();
  for (const id of PROBE_IDS) {
    const name = sanitizeSessionId(id);
    assert.ok(!names.has(name), `${JSON.stringify(id)} and ${JSON.stringify(names.get(name))} share ${name}`);
    names.set(name, id);
    assert.match(name, /^[A-Za-z0-9_%~-]+$/, 'only portable file-name characters');
  }
});

test('ids the original produced keep its file names', () => {
  for (const id of ['default', 'smoke', 'test-session', 'a_b', 'telegram:12345', 'telegram:-100123', 'whatsapp:1234@s.whatsapp.net', 'whatsapp:123-456@g.us', 'whatsapp:99@lid']) {
    assert.equal(sanitizeSessionId(id), legacySessionFileName(id), id);
  }
});

test('injective over generated ids (escapes, near-collisions, long ids)', () => {
  const alphabet = ['a', 'b', '_', ':', '.', '%', '~', '-', '5', 'F', '会', '\u202e', '／', '@', ' '];
  const seen = new Map<string, string>();
  let n = 0;
  const add = (id: string): void => {
    try {
      validateSessionId(id);
    } catch {
      return;
    }
    const name = sanitizeSessionId(id);
    const prev = seen.get(name);
    assert.ok(prev === undefined || prev === id, `${JSON.stringify(id)} vs ${JSON.stringify(prev)} → ${name}`);
    seen.set(name, id);
    n++;
  };
  // Every string of length 1..4 over the alphabet (15^4 ≈ 50k).
  const walk = (prefix: string, depth: number): void => {
    if (prefix) add(prefix);
    if (depth === 0) return;
    for (const c of alphabet) walk(prefix + c, depth - 1);
  };
  walk('', 4);
  // Long ids that differ only at the end share an escaped prefix but not a name.
  for (let i = 0; i < 200; i++) add(`${'会'.repeat(150)}${i}`);
  for (let i = 0; i < 50; i++) add(`${'x'.repeat(190)}:${i}`);
  for (const name of seen.keys()) assert.ok(Buffer.byteLength(`${name}.jsonl`) <= 255, name);
  assert.ok(n > 40_000, `checked ${n} ids`);
});

test("the original's data files keep working: history of telegram:<chat> and plain ids is read back", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const sessions = join(dir, 'sessions');
    mkdirSync(sessions);
    const line = (c: string): string => `${JSON.stringify({ role: 'user', content: c, timestamp: '2025-01-01T00:00:00Z' })}\n`;
    writeFileSync(join(sessions, 'telegram_42.jsonl'), line('from telegram'));
    writeFileSync(join(sessions, 'whatsapp_4915_s_whatsapp_net.jsonl'), line('from whatsapp'));
    writeFileSync(join(sessions, 'default.jsonl'), line('from the cli'));
    writeFileSync(join(sessions, 'my_session.jsonl'), line('was my.session'));
    const store = new SessionStore(sessions);
    assert.equal(store.all('telegram:42')[0]?.content, 'from telegram');
    assert.equal(store.all('whatsapp:4915@s.whatsapp.net')[0]?.content, 'from whatsapp');
    assert.equal(store.all('default')[0]?.content, 'from the cli');
    // An id the original folded (my.session → my_session) no longer reads another's file; the
    // old file stays readable under its plain name.
    assert.deepEqual(store.all('my.session'), []);
    assert.equal(store.all('my_session')[0]?.content, 'was my.session');
    // Two ids that used to share a file now write apart.
    await store.append('会话', { role: 'user', content: 'one', timestamp: 't' });
    await store.append('世界', { role: 'user', content: 'two', timestamp: 't' });
    assert.deepEqual(store.all('会话').map((r) => r.content), ['one']);
    assert.deepEqual(store.all('世界').map((r) => r.content), ['two']);
    assert.ok(!readdirSync(sessions).includes('__.jsonl'));
  } finally {
    cleanup();
  }
});
