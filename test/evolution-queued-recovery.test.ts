// Queued generations that the plain late path would miss: serve's drainer when the provider is
// not codex (the pool exists only because accounts are configured), and an answer drained by
// another process (`codex drain-one`) or recorded just before serve stopped: serve resumes it
// at start from the generation session, once, and the operator is told through the outbox.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingsFromEnv, type Settings } from '../src/config/index.js';
import { createApp } from '../src/app/index.js';
import { openDeliveringCodexPool } from '../src/app/codex.js';
import { runGenerateSkill } from '../src/app/evolution-skills.js';
import { buildServeComponents } from '../src/app/serve-components.js';
import { setEventSink } from '../src/observe/index.js';
import type { OutboxRecord } from '../src/store/index.js';
import type { Component } from '../src/kernel/index.js';
import { FAKE_CODEX, cleanEnv, tempDir } from './helpers.js';

const GOOD = '```js\n// Greets a name.\nfunction main(args) {\n  return "Hello, " + (args.trim() || "world") + "!";\n}\n```';

async function waitFor(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Provider `local`, one Codex account (the fake CLI) that is not logged in yet. */
function setup(dir: string): Settings {
  const env = cleanEnv(dir, { RUSTY_PINCH_CODEX_CLI_BIN: FAKE_CODEX, RUSTY_PINCH_CODEX_ACCOUNTS: 'main||50', RUSTY_PINCH_CODEX_AUTO_LOGIN: 'false', RUSTY_PINCH_PULSE_NOTIFY: 'telegram:42', RUSTY_PINCH_SESSION_FSYNC: 'false' });
  const settings = settingsFromEnv(env, dir);
  const home = join(settings.codex.homeRoot, 'main');
  mkdirSync(home, { recursive: true });
  writeFileSync(join(dir, 'replies.json'), JSON.stringify([GOOD]));
  writeFileSync(join(home, 'fake-codex.json'), JSON.stringify({ require_auth: true, script: join(dir, 'replies.json') }));
  return settings;
}

async function logIn(settings: Settings): Promise<void> {
  const home = join(settings.codex.homeRoot, 'main');
  const r = spawnSync(process.execPath, [FAKE_CODEX, 'login', '--with-api-key'], { input: 'sk-recovery-test-key', env: { PATH: process.env.PATH ?? '', CODEX_HOME: home }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const pool = await openDeliveringCodexPool(settings);
  const h = await pool.healthcheck(true);
  assert.equal(h.checks[0]?.healthy, true, JSON.stringify(h));
}

async function serveParts(settings: Settings, names: string[]): Promise<{ sent: OutboxRecord[]; stop: () => Promise<void> }> {
  const app = await createApp({ settings });
  const sent: OutboxRecord[] = [];
  const components = await buildServeComponents(app, { deliver: async (r) => void sent.push(r), outboxPollMs: 50, codexPollMs: 100 });
  const started: Component[] = [];
  for (const c of components.filter((x) => names.includes(x.name))) {
    await c.start();
    started.push(c);
  }
  return {
    sent,
    stop: async () => {
      for (const c of started.reverse()) await c.stop();
      await app.close();
    },
  };
}

test('provider not codex, accounts configured: serve drains the queued generation and resumes it', { timeout: 120_000 }, async () => {
  const { dir, cleanup } = tempDir('rp-evo-recover-pool-');
  const prev = setEventSink(() => undefined);
  let parts: Awaited<ReturnType<typeof serveParts>> | undefined;
  try {
    const settings = setup(dir);
    assert.equal(settings.provider, 'local');
    const r = await runGenerateSkill({ name: 'greet', goal: 'greet a person', origin: 'cli' }, { settings });
    assert.deepEqual([r.status, r.model], ['queued', 'codex_pool']);
    parts = await serveParts(settings, ['codex-drainer', 'outbox']);
    await logIn(settings);
    const sent = parts.sent;
    await waitFor(() => sent.some((m) => /Skill 'greet'/.test(m.text)), "the operator's report");
    assert.equal(sent.find((m) => /Skill 'greet'/.test(m.text))!.text, "Skill 'greet' (queued generation): promoted after 1 attempt(s)");
    assert.deepEqual([sent[0]!.channel, sent[0]!.chat_id], ['telegram', '42']);
    assert.match(readFileSync(join(settings.workspace, 'skills', 'greet.js'), 'utf8'), /Hello, /);
  } finally {
    await parts?.stop();
    setEventSink(prev);
    cleanup();
  }
});

test('an answer drained by another process is resumed by serve at start, once', { timeout: 120_000 }, async () => {
  const { dir, cleanup } = tempDir('rp-evo-recover-drained-');
  const prev = setEventSink(() => undefined);
  let parts: Awaited<ReturnType<typeof serveParts>> | undefined;
  try {
    const settings = setup(dir);
    const r = await runGenerateSkill({ name: 'greet', goal: 'greet a person', origin: 'cli' }, { settings });
    assert.equal(r.status, 'queued');
    await logIn(settings);
    // `codex drain-one` in another process: the answer lands in the generation session only.
    const other = await openDeliveringCodexPool(settings);
    assert.equal((await other.drainOne()).status, 'executed');
    const staged = join(settings.workspace, 'skills', 'staging', 'greet', 'queued.json');
    assert.ok(existsSync(staged), 'nobody resumed it yet');
    assert.equal(existsSync(join(settings.workspace, 'skills', 'greet.js')), false);

    parts = await serveParts(settings, ['outbox']);
    const sent = parts.sent;
    await waitFor(() => sent.some((m) => /Skill 'greet'/.test(m.text)), "the operator's report");
    assert.equal(sent.find((m) => /Skill 'greet'/.test(m.text))!.text, "Skill 'greet' (queued generation): promoted after 1 attempt(s)");
    assert.ok(existsSync(join(settings.workspace, 'skills', 'greet.js')));
    assert.equal(existsSync(staged), false);
    await parts.stop();
    // A second start finds nothing left to resume.
    parts = await serveParts(settings, ['outbox']);
    const again = parts.sent;
    await parts.stop();
    parts = undefined;
    assert.equal(again.filter((m) => /Skill 'greet'/.test(m.text)).length, 0);
  } finally {
    await parts?.stop();
    setEventSink(prev);
    cleanup();
  }
});
