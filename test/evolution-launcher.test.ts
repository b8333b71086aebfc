// The launcher's check on a short command (`--version`: the fast path that loads neither the
// serve-only probation code nor node:crypto unless a sidecar needs it), with a signed marker:
// every kind of tampering is still refused, with the same message, and the installed build runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cleanEnv, CLI, ROOT, runCli, tempDir } from './helpers.js';
import { fakeRelease } from './evolution-release.js';
import { activeSlotPolicy, evolutionSettings } from '../src/evolution/settings.js';

type Env = Record<string, string>;
const KEY = { RUSTY_PINCH_EVOLUTION_ACTIVE_SLOT_SIGNING_KEY: 'slot-signing-key-0123456789', RUSTY_PINCH_EVOLUTION_REQUIRE_SIGNED_ACTIVE_SLOT: 'true' };

/** A workspace with green activated (signed marker); `tamper` then edits it. */
async function activated(extra: Record<string, string> = KEY): Promise<{ env: Env; updates: string; cleanup: () => void }> {
  const t = tempDir('rp-launch-');
  const env = cleanEnv(t.dir, { RUSTY_PINCH_TEST: '1', ...extra });
  const run = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args], { env: { ...env, RUSTY_PINCH_LAUNCHER: CLI }, encoding: 'utf8' });
  const r = await fakeRelease(t.dir, '0.2.0');
  const st = run('evolution', 'stage-update', '--artifact', r.tarball);
  assert.equal(st.status, 0, st.stderr);
  const ap = run('evolution', 'apply-staged-update', '--confirm', '--healthcheck-timeout-secs', '20');
  assert.equal(ap.status, 0, ap.stderr);
  return { env, updates: join(t.dir, 'workspace', 'updates'), cleanup: t.cleanup };
}

async function refusedWith(tamper: (updates: string, env: Env) => Env | void, reason: RegExp, extra?: Record<string, string>): Promise<void> {
  const s = await activated(extra);
  try {
    const ok = await runCli(['--version'], { env: s.env, timeoutMs: 60_000 });
    assert.equal(ok.stdout.trim(), '0.2.0', ok.stderr);
    const env = tamper(s.updates, s.env) ?? s.env;
    const v = await runCli(['--version'], { env, timeoutMs: 60_000 });
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.trim(), '0.1.0', 'the installed build runs');
    const lines = v.stderr.trim().split('\n');
    assert.equal(lines.length, 1, v.stderr);
    assert.match(lines[0]!, /^rusty-pinch: active update slot ((green|blue) )?rejected \(/);
    assert.match(lines[0]!, reason);
    assert.match(lines[0]!, /; running the installed build$/);
  } finally {
    s.cleanup();
  }
}

const cliJs = (u: string) => join(u, 'green', 'dist', 'cli.js');

test('launcher, short command, signed marker: a good slot runs and says so once', async () => {
  const s = await activated();
  try {
    const v = await runCli(['--version'], { env: s.env, timeoutMs: 60_000 });
    assert.equal(v.stdout.trim(), '0.2.0');
    assert.equal(v.stderr, 'rusty-pinch: running update slot green (version 0.2.0)\n');
  } finally {
    s.cleanup();
  }
});

test('launcher refuses a slot file edited in place', () => refusedWith((u) => appendFileSync(cliJs(u), '\n// edited\n'), /\(slot entry 'dist\/cli\.js' changed since activation\)/));
test('launcher refuses a slot with a file removed', () => refusedWith((u) => unlinkSync(cliJs(u)), /\(slot entry 'dist' changed since activation\)/));
test('launcher refuses a slot with a file added', () => refusedWith((u) => writeFileSync(join(u, 'green', 'dist', 'extra.js'), 'x'), /\(slot entry 'dist' changed since activation\)/));
test('launcher refuses an edited fingerprint', () =>
  refusedWith((u) => {
    const p = join(u, 'green.fingerprint');
    writeFileSync(p, readFileSync(p, 'utf8').replace(/\n([dfl]) (\d+) /, (_m, t, ino) => `\n${t} ${Number(ino) + 1} `));
  }, /\(slot green fingerprint does not match the signed marker\)/));
test('launcher refuses a missing fingerprint', () => refusedWith((u) => unlinkSync(join(u, 'green.fingerprint')), /\(slot green has no activation fingerprint\)/));
test('launcher refuses a tampered sidecar', () =>
  refusedWith((u) => {
    const p = join(u, 'active-slot.sig');
    const sig = JSON.parse(readFileSync(p, 'utf8'));
    sig.signature = sig.signature.replace(/^./, (c: string) => (c === '0' ? '1' : '0'));
    writeFileSync(p, JSON.stringify(sig));
  }, /\(active-slot signature mismatch\)/));
test('launcher refuses a marker switched to the other slot', () => refusedWith((u) => writeFileSync(join(u, 'active-slot'), 'blue\n'), /\(active-slot signature slot mismatch \(marker 'blue', signature 'green'\)\)/));
test('launcher refuses a garbage marker', () => refusedWith((u) => writeFileSync(join(u, 'active-slot'), 'purple\n'), /\(active slot marker 'purple' is invalid in .*active-slot\)/));
test('launcher refuses a removed sidecar when signatures are required', () => refusedWith((u) => unlinkSync(join(u, 'active-slot.sig')), /\(active-slot signature missing while policy requires signatures: /));
test('launcher refuses a signed marker when the key is gone and signatures are required', () =>
  refusedWith((_u, env) => {
    const { RUSTY_PINCH_EVOLUTION_ACTIVE_SLOT_SIGNING_KEY: _k, ...rest } = env;
    return rest;
  }, /\(active-slot signature exists but no signing key is configured for verification\)/));
test('launcher refuses a sidecar signed with another key', () =>
  refusedWith((_u, env) => ({ ...env, RUSTY_PINCH_EVOLUTION_ACTIVE_SLOT_SIGNING_KEY: 'another-key-0123456789abc' }), /\(active-slot signature mismatch\)/));

test('activeSlotPolicy reads the same key and policy as evolutionSettings, garbage included', () => {
  const cases: Array<Record<string, string | undefined>> = [
    {},
    { RUSTY_PINCH_EVOLUTION_ACTIVE_SLOT_SIGNING_KEY: '  k-0123456789  ', RUSTY_PINCH_EVOLUTION_REQUIRE_SIGNED_ACTIVE_SLOT: 'yes' },
    { RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY: 'm-0123456789', RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY_ID: 'q1' },
    { RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY: 'm-0123456789', RUSTY_PINCH_EVOLUTION_ACTIVE_SLOT_SIGNING_KEY_ID: 's1' },
    { RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY: 'm-0123456789', RUSTY_PINCH_EVOLUTION_ACTIVE_SLOT_SIGNING_KEY: 's-0123456789', RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY_ID: 'q1' },
    { RUSTY_PINCH_EVOLUTION_ACTIVE_SLOT_SIGNING_KEY: '   ', RUSTY_PINCH_EVOLUTION_ACTIVE_SLOT_SIGNING_KEY_ID: 'orphan', RUSTY_PINCH_EVOLUTION_REQUIRE_SIGNED_ACTIVE_SLOT: 'maybe' },
    { RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEYS: 'a|b;c|d', RUSTY_PINCH_EVOLUTION_REQUIRE_SIGNED_ACTIVE_SLOT: 'OFF' },
  ];
  for (const env of cases) {
    const full = evolutionSettings(env, '/tmp/ws');
    assert.deepEqual(activeSlotPolicy(env), { key: full.activeSlotKey, requireSigned: full.requireSignedActiveSlot }, JSON.stringify(env));
  }
});
