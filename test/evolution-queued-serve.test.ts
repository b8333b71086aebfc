// The queued path end to end, as an operator meets it: the Codex account's login is refused, so
// `evolution generate-skill` says the request is queued and exits; the operator logs in again
// and starts `serve`, whose Codex drainer runs the queued request; the late answer resumes the
// generation (validate → correction → promote) and the outcome reaches the operator's Telegram
// chat through the durable outbox (a loopback Bot API fake). A late answer whose code posts
// data ends in an approval request instead, which the operator grants from that chat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingsFromEnv } from '../src/config/index.js';
import { FAKE_CODEX, cleanEnv, events, runCli, startCli, tempDir } from './helpers.js';
import { startFakeTelegram, type FakeTelegram } from './fakes/telegram-api.js';

const LOGIN_KEY = 'sk-operator-login-key-123456';

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

interface Setup {
  env: Record<string, string>;
  home: string;
  skills: string;
  /** The fake Codex CLI's log: one JSON line per run (argv, stdin). */
  log: string;
}

/**
 * A workspace whose Codex account ('main', the fake CLI) is not logged in and answers `replies`
 * in order once it is; Telegram against the fake with chat 777 as the operator's.
 */
function setup(dir: string, tg: FakeTelegram, replies: string[], extra: Record<string, string> = {}): Setup {
  const env = cleanEnv(dir, {
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
    ...extra,
  });
  const settings = settingsFromEnv(env, dir);
  const home = join(settings.codex.homeRoot, 'main');
  mkdirSync(home, { recursive: true });
  const script = join(dir, 'replies.json');
  const log = join(dir, 'codex-runs.jsonl');
  writeFileSync(script, JSON.stringify(replies));
  writeFileSync(join(home, 'fake-codex.json'), JSON.stringify({ require_auth: true, script, log }));
  return { env, home, skills: join(settings.workspace, 'skills'), log };
}

/** The operator logs the account in (`codex login --with-api-key` in its home) and checks it. */
async function operatorLogsIn(s: Setup): Promise<void> {
  const login = spawnSync(process.execPath, [FAKE_CODEX, 'login', '--with-api-key'], { input: LOGIN_KEY, env: { PATH: process.env.PATH ?? '', CODEX_HOME: s.home }, encoding: 'utf8' });
  assert.equal(login.status, 0, login.stderr);
  const check = await runCli(['codex', 'healthcheck'], { env: s.env, timeoutMs: 60_000 });
  assert.equal(check.code, 0, check.stdout + check.stderr);
}

/** Starts serve and waits for its drainer's first health check (the account: not logged in). */
async function startServe(s: Setup): Promise<ReturnType<typeof startCli>> {
  const serve = startCli(['serve'], s.env, 200_000);
  await waitForText(serve, '"event":"codex_healthcheck"');
  return serve;
}

test('a queued generation: the command says so, then a running serve completes it and tells the operator on Telegram', { timeout: 240_000 }, async () => {
  const tg = await startFakeTelegram();
  const t = tempDir('rp-evo-queued-serve-');
  let serve: ReturnType<typeof startCli> | undefined;
  try {
    const s = setup(t.dir, tg, [BROKEN, GOOD]);
    const { env, skills, log } = s;
    serve = await startServe(s);

    // 1. Not logged in: no account can take it, the request waits in the pool, the command says so.
    const gen = await runCli(['evolution', 'generate-skill', '--name', 'greet', '--goal', 'greet a person by name', '--json'], { env, timeoutMs: 90_000 });
    assert.equal(gen.code, 0, gen.stderr.slice(-3000));
    const queued = JSON.parse(gen.stdout) as Record<string, any>;
    assert.deepEqual([queued.status, queued.attempts, queued.model], ['queued', 1, 'codex_pool']);
    assert.ok(existsSync(join(skills, 'staging', 'greet', 'queued.json')), 'the generation state is kept in staging');
    assert.equal(existsSync(join(skills, 'greet.js')), false);
    const genSteps = events(gen.stderr).filter((e) => e.event === 'evolution_skill').map((e) => `${e.step}:${e.status}`);
    assert.deepEqual(genSteps, ['start:ok', 'generate:queued', 'finish:queued']);
    // Without --json the operator reads it in words (a second request: this one queues too).
    const words = await runCli(['evolution', 'generate-skill', '--name', 'other', '--goal', 'say hi'], { env, timeoutMs: 90_000 });
    assert.equal(words.code, 0, words.stderr.slice(-2000));
    assert.match(words.stdout, /status: queued[\s\S]*queued in the Codex pool; `serve` finishes the generation and reports to the operator/);

    // 2. The operator logs the account in and checks it.
    await operatorLogsIn(s);

    // 3. The running serve sees the healthy account and drains the queue; the late answer
    //    resumes the generation; the operator is told.
    const report = (): string | undefined => tg.sent.find((m) => m.chat_id === '777' && /Skill 'greet'/.test(m.text))?.text;
    await tg.waitFor(() => report() !== undefined, 150_000, "the operator's report of skill 'greet'").catch((err: unknown) => {
      throw new Error(`${String(err)}\nserve stderr:\n${serve!.stderr().slice(-4000)}`);
    });
    assert.match(report()!, /^Skill 'greet' \(queued generation\): promoted after 2 attempt\(s\)$/);
    assert.match(readFileSync(join(skills, 'greet.js'), 'utf8'), /"Hello, "/);
    assert.equal(existsSync(join(skills, 'staging', 'greet', 'queued.json')), false, 'resumed once');
    // The second queued request completes too (the script's last answer, GOOD, repeats).
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
    assert.equal(res.stderr.includes(LOGIN_KEY), false);
  } finally {
    serve?.child.kill('SIGKILL');
    await tg.close();
    t.cleanup();
  }
});

test('a queued generation whose code posts data ends in an approval in serve; the operator approves from Telegram', { timeout: 240_000 }, async () => {
  const tg = await startFakeTelegram();
  const t = tempDir('rp-evo-queued-approve-');
  const posts: string[] = [];
  const sink = createServer((req, res) => (posts.push(req.url ?? ''), res.end('ok')));
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const port = (sink.address() as AddressInfo).port;
  let serve: ReturnType<typeof startCli> | undefined;
  try {
    const poster = `\`\`\`js\n// Posts a note to the team log.\nasync function main(args) {\n  const r = await http_post("http://127.0.0.1:${port}/notes", args || "ping");\n  return "posted " + r.status;\n}\n\`\`\``;
    const s = setup(t.dir, tg, [poster], { RUSTY_PINCH_SKILL_HTTP_ALLOW: '127.0.0.1' });
    serve = await startServe(s);
    const gen = await runCli(['evolution', 'generate-skill', '--name', 'note', '--goal', 'post a note to the team log', '--json'], { env: s.env, timeoutMs: 90_000 });
    assert.equal(JSON.parse(gen.stdout).status, 'queued', gen.stderr.slice(-2000));
    await operatorLogsIn(s);

    // serve resumes it: valid, but it posts data, so the operator is asked (request + outcome).
    const report = (): string | undefined => tg.sent.find((m) => m.chat_id === '777' && /Skill 'note'/.test(m.text))?.text;
    await tg.waitFor(() => report() !== undefined, 150_000, "the report of skill 'note'");
    const token = /approve with \/approve (\S+)$/.exec(report()!)?.[1];
    assert.ok(token, report());
    assert.match(report()!, /^Skill 'note' \(queued generation\): pending_approval after 1 attempt\(s\)/);
    await tg.waitFor(() => tg.sent.some((m) => m.chat_id === '777' && m.text.includes("promote generated skill 'note'") && m.text.includes('goal: post a note to the team log')), 30_000, 'the approval request with goal and code summary');
    assert.equal(existsSync(join(s.skills, 'note.js')), false, 'not live before a human agreed');
    assert.deepEqual(posts, [], 'validation never sends a post');

    // The operator approves from their chat: the staged candidate goes live.
    const before = tg.sent.length;
    tg.message({ chatId: 777, fromId: 777, text: `/approve ${token}` });
    await tg.waitFor(() => tg.sent.slice(before).some((m) => m.chat_id === '777' && /Approved/.test(m.text)), 30_000, 'the approval reply');
    assert.match(readFileSync(join(s.skills, 'note.js'), 'utf8'), /http_post/);

    serve.child.kill('SIGTERM');
    const res = await serve.result;
    assert.equal(res.code, 0, res.stderr.slice(-3000));
    const stats = JSON.parse((await runCli(['stats'], { env: s.env })).stdout);
    assert.equal(stats.telemetry.evolution.last_skill_status, 'promoted');
    assert.equal((await runCli(['evolution', 'audit-verify'], { env: s.env })).code, 0);
  } finally {
    serve?.child.kill('SIGKILL');
    await new Promise((r) => sink.close(r));
    await tg.close();
    t.cleanup();
  }
});
