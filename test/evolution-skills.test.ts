// `evolution generate-skill` against the fake OpenAI-compatible server through the built CLI:
// the self-correction loop, the staging area, atomic promotion with kept versions, rollback,
// the records (turns, events, stats, audit), and garbage flags.
import { test, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, events, runCli, tempDir } from './helpers.js';
import { startFakeOpenAI, text } from './fakes/openai-server.js';
import { parseCandidate } from '../src/evolution/skills/index.js';
import { AuditChain } from '../src/evolution/index.js';

const fake = await startFakeOpenAI();
after(() => fake.close());
beforeEach(() => void (fake.requests.length = 0));

const BROKEN = '```js\n// Reverses text.\nfunction main(args) {\n  return args.split("").reverse().join("")\n  oops here\n}\n```\n```json\n{"samples": ["abc"]}\n```';
const THROWS = '```js\n// Reverses text.\nfunction main(args) { throw new Error("boom " + args) }\n```\n```json\n{"samples": ["abc"]}\n```';
const GOOD = '```js\n// Reverses text.\nfunction main(args) {\n  return args.split("").reverse().join("") || "(empty)";\n}\n```\n```json\n{"samples": ["abc", ""]}\n```';
const GOOD_V2 = '```js\n// Reverses text, v2.\nfunction main(args) { return "v2:" + args }\n```';

function env(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'openai', RUSTY_PINCH_MODEL: 'gen-model', RUSTY_PINCH_API_BASE: fake.base, RUSTY_PINCH_OPENAI_API_KEY: 'sk-test-evolution-123456', RUSTY_PINCH_CODEX_ENABLED: 'false', RUSTY_PINCH_RETRY_BACKOFF_MS: '1', ...extra });
}

function lastUserMessage(i: number): string {
  const msgs = (fake.requests[i]!.body as { messages: Array<{ role: string; content: string }> }).messages;
  return msgs.filter((m) => m.role === 'user').at(-1)!.content;
}

test('a broken first answer is fed back with its error; the second converges and is promoted', async () => {
  const t = tempDir('rp-evo-');
  try {
    fake.script(text(BROKEN), text(GOOD));
    const r = await runCli(['evolution', 'generate-skill', '--name', 'reverse', '--goal', 'reverse the text given', '--json'], { env: env(t.dir) });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(out.status, 'promoted');
    assert.equal(out.attempts, 2);
    assert.equal(out.model, 'provider:openai');
    assert.deepEqual(out.samples, ['abc', '']);
    assert.deepEqual(out.outputs, [{ args: 'abc', output: 'cba' }, { args: '', output: '(empty)' }]);
    assert.equal(fake.requests.length, 2);
    // The contract goes in the system prompt; the second prompt carries the first error and code.
    const system = (fake.requests[0]!.body as { messages: Array<{ role: string; content: string }> }).messages[0]!.content;
    assert.match(system, /function main\(args\)/);
    assert.match(system, /http_get/);
    assert.match(lastUserMessage(0), /Goal: reverse the text given/);
    const retry = lastUserMessage(1);
    assert.match(retry, /failed validation/);
    assert.match(retry, /SyntaxError|expecting/i);
    assert.match(retry, /oops here/);
    const skillsDir = join(t.dir, 'workspace', 'skills');
    assert.match(readFileSync(join(skillsDir, 'reverse.js'), 'utf8'), /reverse\(\)\.join/);
    assert.ok(existsSync(join(skillsDir, 'staging', 'reverse', 'candidate.js')));
    // Each model call is a turn in the evolution session, with one event line per step.
    const ev = events(r.stderr);
    const turns = ev.filter((e) => e.event === 'turn');
    assert.equal(turns.length, 2);
    assert.ok(turns.every((e) => e.session_id === 'evolution:skills' && e.path === 'provider'));
    assert.deepEqual(ev.filter((e) => e.event === 'evolution_skill').map((e) => `${String(e.step)}:${String(e.status)}`), ['start:ok', 'generate:ok', 'validate:error', 'generate:ok', 'validate:ok', 'promote:ok', 'finish:promoted']);
    // The staging candidate is never a live skill.
    const list = JSON.parse((await runCli(['skills', 'list'], { env: env(t.dir) })).stdout) as { skills: Array<{ name: string }> };
    assert.deepEqual(list.skills.map((s) => s.name).sort(), ['reverse', 'weather']);
    const run = await runCli(['skills', 'run', '--name', 'reverse', '--args', 'xyz'], { env: env(t.dir) });
    assert.match(run.stdout, /"output": "zyx"/);
    const stats = JSON.parse((await runCli(['stats'], { env: env(t.dir) })).stdout) as { telemetry: { evolution: Record<string, unknown> } };
    assert.equal(stats.telemetry.evolution.last_skill_name, 'reverse');
    assert.equal(stats.telemetry.evolution.last_skill_status, 'promoted');
    assert.equal(stats.telemetry.evolution.last_skill_attempts, 2);
    const audit = readFileSync(join(t.dir, 'workspace', 'updates', 'evolution-audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.kind, 'skill_generation');
    assert.equal(audit[0]!.status, 'promoted');
    assert.match(String(audit[0]!.hash), /^[0-9a-f]{64}$/);
    assert.equal(new AuditChain({ path: join(t.dir, 'workspace', 'updates', 'evolution-audit.jsonl') }).verify().entries, 1, 'the update chain verifies skill records');
  } finally {
    t.cleanup();
  }
});

test('a model that never gets it right leaves skills/ untouched and exits 1 with the last error', async () => {
  const t = tempDir('rp-evo-');
  try {
    fake.script(text(BROKEN), text(THROWS), text(THROWS));
    const r = await runCli(['evolution', 'generate-skill', '--name', 'reverse', '--goal', 'reverse text', '--max-attempts', '3'], { env: env(t.dir) });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(fake.requests.length, 3);
    assert.match(r.stderr, /^Error: skill 'reverse' was not promoted after 3 attempt\(s\): main\("abc"\) failed: .*boom abc/m);
    assert.match(r.stdout, /status: failed/);
    const skillsDir = join(t.dir, 'workspace', 'skills');
    assert.ok(!existsSync(join(skillsDir, 'reverse.js')));
    assert.match(readFileSync(join(skillsDir, 'staging', 'reverse', 'candidate.js'), 'utf8'), /boom/);
    assert.equal((JSON.parse(readFileSync(join(skillsDir, 'staging', 'reverse', 'report.json'), 'utf8')) as { attempt: number }).attempt, 3);
  } finally {
    t.cleanup();
  }
});

test('an existing skill needs --replace; the replaced version is kept and rollback restores it', async () => {
  const t = tempDir('rp-evo-');
  try {
    const e = env(t.dir);
    const skillsDir = join(t.dir, 'workspace', 'skills');
    mkdirSync(skillsDir, { recursive: true });
    writeFileSync(join(skillsDir, 'reverse.js'), '// Old.\nfunction main(a) { return "old" }\n');
    const refused = await runCli(['evolution', 'generate-skill', '--name', 'reverse', '--goal', 'reverse text'], { env: e });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /already exists \(use --replace/);
    assert.equal(fake.requests.length, 0, 'no model call for a refused name');
    fake.script(text(GOOD_V2));
    const r = await runCli(['evolution', 'generate-skill', '--name', 'reverse', '--goal', 'reverse text', '--replace', '--json'], { env: e });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { attempts: number; replaced_path: string; samples: string[] };
    assert.equal(out.attempts, 1);
    assert.deepEqual(out.samples, [''], 'a bare code block runs with empty args');
    assert.match(readFileSync(join(skillsDir, 'reverse.js'), 'utf8'), /v2/);
    const hist = JSON.parse((await runCli(['skills', 'history', '--name', 'reverse'], { env: e })).stdout) as { versions: Array<{ path: string }> };
    assert.equal(hist.versions.length, 1);
    assert.equal(readFileSync(hist.versions[0]!.path, 'utf8'), '// Old.\nfunction main(a) { return "old" }\n');
    const rb = await runCli(['skills', 'rollback', '--name', 'reverse'], { env: e });
    assert.equal(rb.code, 0, rb.stderr);
    assert.equal(readFileSync(join(skillsDir, 'reverse.js'), 'utf8'), '// Old.\nfunction main(a) { return "old" }\n');
    // The rolled-back version is kept too, so the rollback can be undone.
    const again = JSON.parse((await runCli(['skills', 'history', '--name', 'reverse'], { env: e })).stdout) as { versions: Array<{ path: string }> };
    assert.equal(again.versions.length, 1);
    assert.match(readFileSync(again.versions[0]!.path, 'utf8'), /v2/);
    const none = await runCli(['skills', 'rollback', '--name', 'nothing'], { env: e });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^Error: skill 'nothing' has no earlier version/m);
    assert.deepEqual(readdirSync(skillsDir).filter((f) => f.endsWith('.js')), ['reverse.js'], 'history and staging stay out of the live set');
  } finally {
    t.cleanup();
  }
});

test('garbage flags and names: clear errors, no model call, nothing written', async () => {
  const t = tempDir('rp-evo-');
  try {
    const e = env(t.dir);
    for (const [args, code, pattern] of [
      [['--name', 'x', '--goal', 'g', '--max-attempts', 'lots'], 2, /--max-attempts must be a whole number/],
      [['--name', 'x', '--goal', 'g', '--max-attempts', '0'], 1, /--max-attempts must be an integer from 1 to 10/],
      [['--name', 'x', '--goal', 'g', '--max-attempts', '99'], 1, /--max-attempts must be an integer from 1 to 10/],
      [['--name', '  ', '--goal', 'g'], 1, /skill name is empty/],
      [['--name', '../etc', '--goal', 'g'], 1, /skill name/],
      [['--name', 'x', '--goal', '   '], 1, /goal is empty/],
      [['--name', 'x'], 2, /required option '--goal/],
    ] as Array<[string[], number, RegExp]>) {
      const r = await runCli(['evolution', 'generate-skill', ...args], { env: e });
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
    }
    assert.equal(fake.requests.length, 0);
    assert.ok(!existsSync(join(t.dir, 'workspace', 'skills', 'staging')));
  } finally {
    t.cleanup();
  }
});

test('reply parsing: js block + samples, bare block, bare text, junk samples', () => {
  assert.deepEqual(parseCandidate(GOOD), { code: '// Reverses text.\nfunction main(args) {\n  return args.split("").reverse().join("") || "(empty)";\n}', samples: ['abc', ''], samplesFrom: 'model' });
  assert.deepEqual(parseCandidate('Here:\n```\nfunction main(){return "x"}\n```'), { code: 'function main(){return "x"}', samples: [''], samplesFrom: 'default' });
  assert.deepEqual(parseCandidate('function main(){return "x"}'), { code: 'function main(){return "x"}', samples: [''], samplesFrom: 'default' });
  assert.deepEqual(parseCandidate('```js\nfunction main(){}\n```\n```json\n{"samples": [1, null, "\\u0001"]}\n```').samples, ['']);
  assert.deepEqual(parseCandidate('```js\nfunction main(){}\n```\n```json\nnot json\n```').samples, ['']);
  assert.equal(parseCandidate('```json\n{"samples":["a"]}\n```').code, '');
});

test('a candidate that posts data waits for a Pulse approval (goal + summary shown); approving promotes it', async () => {
  const t = tempDir('rp-evo-');
  const posts: string[] = [];
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    if (req.method === 'POST') posts.push(req.url ?? '');
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const e = env(t.dir, { RUSTY_PINCH_SKILL_HTTP_ALLOW: '127.0.0.1', RUSTY_PINCH_PULSE_NOTIFY: 'telegram:42', RUSTY_PINCH_EVOLUTION_MANIFEST_SIGNING_KEY: 'audit-key-for-tests-0123456789' });
    const poster = `\`\`\`js\n// Posts a note to the team log.\nasync function main(args) {\n  const r = await http_post("http://127.0.0.1:${port}/notes", args || "ping");\n  return "posted " + r.status;\n}\n\`\`\``;
    fake.script(text(poster));
    const r = await runCli(['evolution', 'generate-skill', '--name', 'note', '--goal', 'post a note to the team log', '--json'], { env: e });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { status: string; approval_token: string; risk_reasons: string[]; outputs: Array<{ output: string }> };
    assert.equal(out.status, 'pending_approval');
    assert.deepEqual(out.risk_reasons, ['posts data (http_post)']);
    assert.deepEqual(out.outputs, [{ args: '', output: 'posted 202' }], 'validation ran with the post held');
    assert.deepEqual(posts, [], 'validation never sends a post');
    const skillsDir = join(t.dir, 'workspace', 'skills');
    assert.ok(!existsSync(join(skillsDir, 'note.js')));
    // The operator sees the goal and a code summary in the approval request (through the outbox).
    const outbox = readFileSync(join(t.dir, 'workspace', 'outbox', 'outbox.jsonl'), 'utf8');
    assert.match(outbox, /promote generated skill 'note'/);
    assert.match(outbox, /goal: post a note to the team log/);
    assert.match(outbox, /host calls: http_post/);
    assert.match(outbox, new RegExp(out.approval_token));
    const ok = await runCli(['pulse', 'approve', '--token', out.approval_token], { env: e });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /"status": "ok"/);
    assert.match(readFileSync(join(skillsDir, 'note.js'), 'utf8'), /http_post/);
    const audit = readFileSync(join(t.dir, 'workspace', 'updates', 'evolution-audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(audit.map((a) => [a.status, a.origin]), [['pending_approval', 'cli'], ['promoted', 'approval']]);
    assert.equal(audit[1]!.prev_hash, audit[0]!.hash, 'one chain');
    assert.deepEqual(audit.map((a) => a.hash_alg), ['hmac-sha256', 'hmac-sha256'], 'keyed with the evolution key');
    const auditFile = join(t.dir, 'workspace', 'updates', 'evolution-audit.jsonl');
    assert.equal(new AuditChain({ path: auditFile, key: { id: 'default', secret: 'audit-key-for-tests-0123456789' } }).verify().entries, 2);
    // A rejected one is never promoted.
    fake.script(text(poster.replace('team log', 'other log')));
    const r2 = await runCli(['evolution', 'generate-skill', '--name', 'note2', '--goal', 'post elsewhere', '--json'], { env: e });
    const token2 = (JSON.parse(r2.stdout) as { approval_token: string }).approval_token;
    const no = await runCli(['pulse', 'reject', '--token', token2], { env: e });
    assert.equal(no.code, 0, no.stderr);
    assert.ok(!existsSync(join(skillsDir, 'note2.js')));
    assert.deepEqual(posts, []);
  } finally {
    await new Promise((r) => server.close(r));
    t.cleanup();
  }
});

test('the daily generation budget stops a generation before any model call', async () => {
  const t = tempDir('rp-evo-');
  try {
    const e = env(t.dir, { RUSTY_PINCH_EVOLUTION_SKILL_DAILY_BUDGET: '1' });
    fake.script(text(GOOD));
    assert.equal((await runCli(['evolution', 'generate-skill', '--name', 'one', '--goal', 'g'], { env: e })).code, 0);
    const r = await runCli(['evolution', 'generate-skill', '--name', 'two', '--goal', 'g'], { env: e });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: the daily skill generation budget is used up \(1 of 1 today, UTC\)/m);
    assert.equal(fake.requests.length, 1);
    const off = await runCli(['evolution', 'generate-skill', '--name', 'two', '--goal', 'g'], { env: { ...e, RUSTY_PINCH_EVOLUTION_SKILL_DAILY_BUDGET: '0' } });
    assert.match(off.stderr, /^Error: skill generation is turned off/m);
  } finally {
    t.cleanup();
  }
});

test('codex enabled but its CLI missing: exit 1, nothing promoted, and a hint that names the fix and the provider switch', async () => {
  const t = tempDir('rp-evo-');
  try {
    const r = await runCli(['evolution', 'generate-skill', '--name', 'hello', '--goal', 'say hello'], { env: env(t.dir, { RUSTY_PINCH_PROVIDER: 'local', RUSTY_PINCH_CODEX_ENABLED: 'true', RUSTY_PINCH_CODEX_CLI_BIN: join(t.dir, 'no-such-codex') }) });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Error: skill 'hello' was not promoted after 1 attempt\(s\): the model failed: failed to execute codex cli command/);
    assert.match(r.stderr, /hint: install the Codex CLI .*RUSTY_PINCH_CODEX_ENABLED=false/);
    assert.equal(existsSync(join(t.dir, 'workspace', 'skills', 'hello.js')), false);
  } finally {
    t.cleanup();
  }
});
