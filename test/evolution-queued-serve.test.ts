// The queued path end to end, as an operator meets it: the Codex account's login is refused, so
// `evolution generate-skill` says the request is queued and exits; the operator logs in again
// and starts `serve`, whose Codex drainer runs the queued request; the late answer resumes the
// generation (validate → correction → promote) and the outcome reaches the operator's Telegram
// chat through the durable outbox (a loopback Bot API fake).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingsFromEnv } from '../src/config/index.js';
import { FAKE_CODEX, cleanEnv, events, runCli, startCli, tempDir } from './helpers.js';
import { startFakeTelegram } from './fakes/telegram-api.js';

// The late answer is broken (a correction turn follows, inside serve); the correction is good.
const BROKEN = '```js\n// Greets a name.\nfunction main(args) {\n  return greting + args;\n}\n```';
const GOOD = '```js\n// Greets a name (empty: the world).\nfunction main(args) {\n  return "Hello, " + (args.trim() || "world") + "!";\n}\n```\n```json\n{"samples": ["", "Ada"]}\n```';

/** Resolves once the process has printed `needle` on stderr (fails if it exits first). */
function waitForText(p: ReturnType<typeof startCli>, needle: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (p.stderr().includes(needle)) return resolve();
      if (p.child.exitCode !== null) return reject(new Error(`exited ${p.child.exitCode} before '${needle}':\n${p.stderr()}`));
      setTimeout(tick, 25);
    };
    tick();
  });
}

test('a queued generation: the command says so, then a running serve completes it and tells the operator on Telegram', { timeout: 240_000 }, async () => {
  const tg = await startFakeTelegram();
  const t = tempDir('rp-evo-queued-serve-');
  let serve: ReturnType<typeof startCli> | undefined;
  try {
    const env = cleanEnv(t.dir, {
      RUSTY_PINCH_PROVIDER: 'codex',
      RUSTY_PINCH_CODEX_CLI_BIN: FAKE_CODEX,
      RUSTY_PINCH_CODEX_ACCOUNTS: 'main||50',
      RUSTY_PINCH_CODEX_AUTO_LOGIN: 'false',
      RUSTY_PINCH_CODEX_TIMEOUT_SECS: '60',
      RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED: 'true',
      RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN: tg.token,
      RUSTY_PINCH_CHANNELS_TELEGRAM_API_ROOT: tg.url,
      RUSTY_PINCH_CHANNELS_TELEGRAM_POLL_TIMEOUT_SECS: '1',
      RUSTY_PINCH_CHANNELS_TELEGRAM_DM_POLICY: 'open',
      RUSTY_PINCH_PULSE_NOTIFY: 'telegram:777',
      RUSTY_PINCH_OPERATOR_CHATS: 'telegram:777',
      RUSTY_PINCH_SESSION_FSYNC: 'false',
    });
    const settings = settingsFromEnv(env, t.dir);
    // The account's home: the fake CLI needs a login there, answers from a script and logs each run.
    const home = join(settings.codex.homeRoot, 'main');
    mkdirSync(home, { recursive: true });
    const script = join(t.dir, 'replies.json');
    const log = join(t.dir, 'codex-runs.jsonl');
    writeFileSync(script, JSON.stringify([BROKEN, GOOD]));
    writeFileSync(join(home, 'fake-codex.json'), JSON.stringify({ require_auth: true, script, log }));

    // serve runs (its drainer finds the account not logged in).
    serve = startCli(['serve'], env, 200_000);
    await waitForText(serve, '"event":"codex_healthcheck"');

    // 1. Not logged in: no account can take it, the request waits in the pool, the command says so.
    const gen = await runCli(['evolution', 'generate-skill', '--name', 'greet', '--goal', 'greet a person by name', '--json'], { env, timeoutMs: 90_000 });
    assert.equal(gen.code, 0, gen.stderr.slice(-3000));
    const queued = JSON.parse(gen.stdout) as Record<string, any>;
    assert.deepEqual([queued.status, queued.attempts, queued.model], ['queued', 1, 'codex_pool']);
    const skills = join(settings.workspace, 'skills');
    assert.ok(existsSync(join(skills, 'staging', 'greet', 'queued.json')), 'the generation state is kept in staging');
    assert.equal(existsSync(join(skills, 'greet.js')), false);
    const genSteps = events(gen.stderr).filter((e) => e.event === 'evolution_skill').map((e) => `${e.step}:${e.status}`);
    assert.deepEqual(genSteps, ['start:ok', 'generate:queued', 'finish:queued']);
    // Without --json the operator reads it in words (a second request: this one queues too).
    const words = await runCli(['evolution', 'generate-skill', '--name', 'other', '--goal', 'say hi'], { env, timeoutMs: 90_000 });
    assert.equal(words.code, 0, words.stderr.slice(-2000));
    assert.match(words.stdout, /status: queued[\s\S]*queued in the Codex pool; `serve` finishes the generation and reports to the operator/);

    // 2. The operator logs the account in (`codex login --with-api-key` in its home) and checks it.
    const login = spawnSync(process.execPath, [FAKE_CODEX, 'login', '--with-api-key'], { input: 'sk-operator-login-key-123456', env: { PATH: process.env.PATH ?? '', CODEX_HOME: home }, encoding: 'utf8' });
    assert.equal(login.status, 0, login.stderr);
    const check = await runCli(['codex', 'healthcheck'], { env, timeoutMs: 60_000 });
    assert.equal(check.code, 0, check.stdout + check.stderr);

    // 3. The running serve sees the healthy account and drains the queue; the late answer resumes the generation; the operator is told.
    const report = (): string | undefined => tg.sent.find((m) => m.chat_id === '777' && /Skill 'greet'/.test(m.text))?.text;
    await tg.waitFor(() => report() !== undefined, 150_000, "the operator's report of skill 'greet'").catch((err: unknown) => {
      throw new Error(`${String(err)}\nserve stderr:\n${serve!.stderr().slice(-4000)}`);
    });
    assert.match(report()!, /^Skill 'greet' \(queued generation\): promoted after 2 attempt\(s\)$/);
    assert.match(readFileSync(join(skills, 'greet.js'), 'utf8'), /"Hello, "/);
    assert.equal(existsSync(join(skills, 'staging', 'greet', 'queued.json')), false, 'resumed once');
    // The second queued request completes too (its code-only answer is GOOD, the script's last).
    await tg.waitFor(() => tg.sent.some((m) => m.chat_id === '777' && /Skill 'other'/.test(m.text)), 150_000, "the report of skill 'other'");

    // The correction turn inside serve carried the late answer's exact error and code.
    const runs = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { argv: string[]; stdin?: string });
    const prompts = runs.filter((r) => r.argv[0] === 'exec').map((r) => r.stdin ?? '');
    assert.ok(prompts.some((p) => /Attempt 2 of the skill 'greet' failed validation[\s\S]*greting[\s\S]*return greting \+ args;/.test(p)), prompts.map((p) => p.slice(0, 200)).join('\n---\n'));

    serve.child.kill('SIGTERM');
    const res = await serve.result;
    assert.equal(res.code, 0, res.stderr.slice(-3000));
    const steps = events(res.stderr).filter((e) => e.event === 'evolution_skill' && e.skill === 'greet').map((e) => `${e.step}:${e.status}`);
    assert.deepEqual(steps, ['generate:ok', 'validate:error', 'generate:ok', 'validate:ok', 'promote:ok', 'finish:promoted']);
    assert.ok(events(res.stderr).some((e) => e.event === 'deferred_reply'), 'the answer came back through the door');
    // Both outcomes are on the audit chain and in stats.
    const audit = await runCli(['evolution', 'audit-verify'], { env });
    assert.equal(audit.code, 0, audit.stderr);
    const stats = JSON.parse((await runCli(['stats'], { env })).stdout);
    assert.equal(stats.telemetry.evolution.last_skill_status, 'promoted');
    assert.equal(res.stderr.includes('sk-operator-login-key-123456'), false);
  } finally {
    serve?.child.kill('SIGKILL');
    await tg.close();
    t.cleanup();
  }
});
