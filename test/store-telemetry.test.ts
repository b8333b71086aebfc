// Telemetry: the original's schema, merging deltas under a lock, corrupt files moved aside,
// and no lost count when many processes record at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Telemetry } from '../src/store/index.js';
import { setEventSink } from '../src/observe/index.js';
import type { TurnRecord } from '../src/kernel/index.js';
import { cleanEnv, runCli, tempDir } from './helpers.js';

function turn(over: Partial<TurnRecord> = {}): TurnRecord {
  return { timestamp: 't', request_id: 'rp-1-1', session_id: 's', path: 'provider', status: 'ok', provider: 'local', model: 'm', tool_name: null, attempts: 0, latency_ms: 1, user_chars: 1, response_chars: 2, error: null, ...over };
}

test('counter rules and schema field order', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'latest.json');
    const t = new Telemetry(file);
    t.record(turn());
    t.record(turn({ path: 'tool', attempts: null }));
    t.record(turn({ path: 'skill', status: 'error', attempts: null }));
    t.record(turn({ attempts: 3, status: 'error' }));
    await t.flush();
    const snap = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(Object.keys(snap).slice(0, 13), ['schema_version', 'updated_at', 'total_turns', 'ok_turns', 'error_turns', 'provider_turns', 'tool_turns', 'skill_turns', 'total_provider_attempts', 'codex', 'pulse', 'evolution', 'last_turn']);
    assert.equal(snap.total_turns, 4);
    assert.equal(snap.ok_turns, 2);
    assert.equal(snap.error_turns, 2);
    assert.equal(snap.provider_turns, 2);
    assert.equal(snap.tool_turns, 1);
    assert.equal(snap.skill_turns, 1);
    assert.equal(snap.total_provider_attempts, 3);
    assert.equal(snap.last_turn.attempts, 3);
    // A second instance adds to what is on disk.
    const t2 = new Telemetry(file);
    t2.record(turn());
    await t2.flush();
    assert.equal(t2.read().total_turns, 5);
  } finally {
    cleanup();
  }
});

test('a corrupt telemetry file is moved aside with a warning and rebuilt', async () => {
  const { dir, cleanup } = tempDir();
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  try {
    mkdirSync(join(dir, 't'));
    const file = join(dir, 't', 'latest.json');
    writeFileSync(file, '{"total_turns": 7, broken');
    const t = new Telemetry(file);
    assert.equal(t.read().total_turns, 0);
    t.record(turn());
    await t.flush();
    assert.equal(t.read().total_turns, 1);
    assert.ok(readdirSync(join(dir, 't')).some((f) => f.startsWith('latest.json.corrupt-')));
    assert.ok(lines.some((l) => l.includes('telemetry file is corrupt')));
    writeFileSync(file, '[]');
    assert.equal(t.read().total_turns, 0);
  } finally {
    setEventSink(prev);
    cleanup();
  }
});

test('garbage: wrong field types are reset, never silently coerced: the file is backed up with a warning', async () => {
  const { dir, cleanup } = tempDir();
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  try {
    const file = join(dir, 'latest.json');
    const original = JSON.stringify({ total_turns: 'x', ok_turns: 4, error_turns: -2, tool_turns: 1.5, codex: 5, bus: { published: '9' }, last_turn: null });
    writeFileSync(file, original);
    const t = new Telemetry(file);
    const snap = t.read();
    assert.equal(snap.total_turns, 0);
    assert.equal(snap.ok_turns, 4, 'valid fields are kept');
    assert.equal(snap.error_turns, 0);
    assert.equal(snap.tool_turns, 0);
    assert.equal(snap.codex, null);
    assert.equal(snap.bus, undefined);
    assert.equal(snap.schema_version, 1);
    const backups = readdirSync(dir).filter((f) => f.startsWith('latest.json.corrupt-'));
    assert.equal(backups.length, 1);
    assert.equal(readFileSync(join(dir, backups[0]!), 'utf8'), original);
    const warning = JSON.parse(lines.find((l) => l.includes('telemetry file is corrupt'))!);
    assert.equal(warning.event, 'warning');
    assert.deepEqual(warning.problems.map((p: string) => p.split(':')[0]), ['total_turns', 'error_turns', 'tool_turns', 'codex', 'bus.published']);
    // Rebuilt clean: the next turn counts on top of what was valid, with no new warning.
    lines.length = 0;
    t.record(turn());
    await t.flush();
    assert.equal(t.read().ok_turns, 5);
    assert.equal(lines.length, 0, lines.join(''));
    // Files this version or the original wrote with missing fields are fine as they are.
    writeFileSync(file, JSON.stringify({ total_turns: 3 }));
    assert.equal(new Telemetry(file).read().total_turns, 3);
    assert.equal(lines.length, 0, lines.join(''));
  } finally {
    setEventSink(prev);
    cleanup();
  }
});

test('20 concurrent `run` processes count exactly 20 turns', { timeout: 120_000 }, async () => {
  const { dir, cleanup } = tempDir();
  try {
    const env = cleanEnv(dir);
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => runCli(['run', '--session', `c${i % 4}`, '--message', `hello ${i}`], { env, timeoutMs: 60_000 })));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const stats = await runCli(['stats'], { env });
    const json = JSON.parse(stats.stdout);
    assert.equal(json.telemetry.total_turns, 20);
    assert.equal(json.telemetry.ok_turns, 20);
    assert.equal(json.telemetry.provider_turns, 20);
  } finally {
    cleanup();
  }
});
