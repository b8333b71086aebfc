// `skills list|dry-run|run` and the skill tools through the built CLI, plus garbage inputs for
// names, args, flags and skill files.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, events, runCli, tempDir } from './helpers.js';
import { normalizeSkillName, parseSkillMeta } from '../src/skills/index.js';

const { dir, cleanup } = tempDir('rp-skills-cli-');
const env = cleanEnv(dir);
const skillsDir = join(dir, 'workspace', 'skills');
const server: Server = createServer((req, res) => res.end(`loopback ${req.url}`));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as AddressInfo).port;
after(async () => {
  await new Promise((r) => server.close(r));
  cleanup();
});

function skill(name: string, source: string): void {
  mkdirSync(skillsDir, { recursive: true });
  writeFileSync(join(skillsDir, name), source);
}

test('skills list syncs the starter skills once and prints the original shape', async () => {
  const r = await runCli(['skills', 'list'], { env });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { skills: Array<Record<string, unknown>>; skills_dir: string };
  assert.equal(out.skills_dir, skillsDir);
  const w = out.skills.find((s) => s.name === 'weather')!;
  assert.deepEqual(Object.keys(w), ['name', 'path', 'size_bytes', 'modified_at', 'description']);
  assert.equal(w.path, join(skillsDir, 'weather.js'));
  assert.ok(events(r.stderr).some((e) => e.event === 'skills_assets_synced' && e.copied === 1));
  // A workspace file is never overwritten by the sync.
  writeFileSync(join(skillsDir, 'weather.js'), '// Mine.\nfunction main() { return "mine" }\n');
  const again = await runCli(['skills', 'list'], { env });
  assert.equal(readFileSync(join(skillsDir, 'weather.js'), 'utf8'), '// Mine.\nfunction main() { return "mine" }\n');
  assert.ok(!events(again.stderr).some((e) => e.event === 'skills_assets_synced'));
  assert.equal((JSON.parse(again.stdout) as { skills: Array<{ name: string; description: string }> }).skills.find((s) => s.name === 'weather')!.description, 'Mine.');
});

test('skills run prints the JSON answer, records a skill turn and the session records', async () => {
  skill('echo.js', '// Echo.\nasync function main(a) { const r = await http_get(a); log_info("status " + r.status); return r.body }\n');
  const runEnv = { ...env, RUSTY_PINCH_SKILL_HTTP_ALLOW: '127.0.0.1' };
  const r = await runCli(['skills', 'run', '--session', 'sk', '--name', 'echo', '--args', `  http://127.0.0.1:${port}/hi  `], { env: runEnv });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `{\n  "output": "loopback /hi",\n  "skill": "echo",\n  "status": "ok"\n}\n`);
  const turn = events(r.stderr).find((e) => e.event === 'turn')!;
  assert.equal(turn.path, 'skill');
  assert.equal(turn.status, 'ok');
  assert.ok(events(r.stderr).some((e) => e.event === 'skill_log' && e.message === 'status 200'));
  const lines = readFileSync(join(dir, 'data', 'sessions', 'sk.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { role: string; content: string });
  assert.deepEqual(lines.map((l) => [l.role, l.content]), [['user', `/skill echo http://127.0.0.1:${port}/hi`], ['assistant', r.stdout.trimEnd()]]);
  const stats = JSON.parse((await runCli(['stats'], { env })).stdout) as Record<string, unknown>;
  assert.match(JSON.stringify(stats), /"skill_turns":1/);
  // Without the allowlist the same call is refused by policy and the turn fails.
  const refused = await runCli(['skills', 'run', '--session', 'sk', '--name', 'echo', '--args', `http://127.0.0.1:${port}/hi`], { env });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /Error: request_id=rp-[0-9a-f]+-[0-9a-f]+: skill 'echo' execution failed: .*blocked by sandbox policy/);
});

test('skills dry-run compiles without running main and reports syntax errors with lines', async () => {
  skill('sideeffect.js', 'log_info("top level ran");\nfunction main() { log_info("main ran"); return 1 }\n');
  const ok = await runCli(['skills', 'dry-run', '--name', ' sideeffect '], { env });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, '{\n  "skill": "sideeffect",\n  "status": "ok"\n}\n');
  assert.ok(!events(ok.stderr).some((e) => e.event === 'skill_log'), 'nothing executed');
  skill('broken.js', 'function main(a) {\n  const x = ;\n}\n');
  const bad = await runCli(['skills', 'dry-run', '--name', 'broken'], { env });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Error: skill 'broken' failed dry run: SyntaxError: .* \(line 2, column \d+\)/);
});

test('tools: /tool skill_run and skill_list with the original messages', async () => {
  skill('hello.js', 'function main(a) { return "hello " + a }\n');
  const run = await runCli(['run', '--message', '/tool skill_run hello  big world'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, '[tool:skill_run]\nhello big world\n');
  const list = await runCli(['run', '--message', '/tool skill_list'], { env });
  assert.match(list.stdout, /"skills": \[\n(.|\n)*"hello"/);
  const noName = await runCli(['run', '--message', '/tool skill_run'], { env });
  assert.match(noName.stderr, /skill_run requires skill name\. usage: \/tool skill_run <skill_name> \[skill_args\]/);
  const missing = await runCli(['run', '--message', '/tool skill_run ghost'], { env });
  assert.match(missing.stderr, /failed running skill 'ghost': skill 'ghost' not found at /);
  const listArgs = await runCli(['run', '--message', '/tool skill_list x'], { env });
  assert.match(listArgs.stderr, /skill_list does not accept arguments/);
  const tools = await runCli(['tools', 'list'], { env });
  assert.match(tools.stdout, /skill_run - Run a runtime skill\. Args: <skill_name> \[skill_args\]\n {2}usage: \/tool skill_run <skill_name> \[skill_args\]/);
});

test('garbage names, flags and files are refused with the original messages', async () => {
  // A malformed name or session is a usage error (2); a well-formed name that is missing is a failure (1).
  const cases: Array<[string[], RegExp, number]> = [
    [['skills', 'run', '--name', '../../etc/passwd'], /skill name must not contain path separators/, 2],
    [['skills', 'run', '--name', 'Foo'], /invalid skill name 'Foo'\. allowed chars: a-z, 0-9, '_' and '-'/, 2],
    [['skills', 'run', '--name', '   '], /skill name is empty/, 2],
    [['skills', 'run', '--name', 'a\u0007b'], /invalid skill name/, 2],
    [['skills', 'dry-run', '--name', 'Foo'], /invalid skill name 'Foo'/, 2],
    [['skills', 'run', '--name', 'x', '--session', '../evil'], /session/i, 2],
    [['skills', 'dry-run', '--name', 'nope'], /skill 'nope' not found at /, 1],
  ];
  for (const [args, re, code] of cases) {
    const r = await runCli(args, { env });
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
  }
  const usage = await runCli(['skills', 'run'], { env });
  assert.equal(usage.code, 2);
  skill('huge.js', `// big\nfunction main() { return 1 }\n${'/'.repeat(2)}${'x'.repeat(130 * 1024)}\n`);
  const huge = await runCli(['skills', 'run', '--name', 'huge'], { env });
  assert.match(huge.stderr, /skill 'huge' exceeds size limit \(\d+ bytes > 131072\)/);
  skill('empty.js', '  \n');
  assert.match((await runCli(['skills', 'run', '--name', 'empty'], { env })).stderr, /skill script is empty/);
  skill('binary.js', '\u0000\u0001\uffff function main() {}');
  assert.match((await runCli(['skills', 'run', '--name', 'binary'], { env })).stderr, /failed|SyntaxError/);
});

test('name rules and header parsing (unit)', () => {
  assert.equal(normalizeSkillName(' weather.js '), 'weather');
  assert.equal(normalizeSkillName('-_a1'), '-_a1');
  assert.throws(() => normalizeSkillName('.js'), /skill name is empty/);
  assert.throws(() => normalizeSkillName('a\\b'), /path separators/);
  assert.throws(() => normalizeSkillName('wéather'), /invalid skill name/);
  assert.throws(() => normalizeSkillName('a'.repeat(65)), /too long/);
  assert.deepEqual(parseSkillMeta('// Fetches things.\n// @risky\nfunction main() {}'), { description: 'Fetches things.', risky: true });
  assert.deepEqual(parseSkillMeta('/**\n * Block doc\n * spans lines.\n *\n * Later para.\n */\nfunction main(){}'), { description: 'Block doc spans lines.', risky: false });
  assert.deepEqual(parseSkillMeta('function main() {} // @risky'), { description: null, risky: false });
  assert.deepEqual(parseSkillMeta(''), { description: null, risky: false });
  assert.deepEqual(parseSkillMeta('/* unterminated'), { description: 'unterminated', risky: false });
  assert.equal(parseSkillMeta(`// ${'d'.repeat(500)}`).description!.length, 300);
});

test('skill_run is risky per call only for skills whose header carries @risky', async () => {
  const { SkillManager, skillRunTool } = await import('../src/skills/index.js');
  const { settingsFromEnv } = await import('../src/config/settings.js');
  skill('danger.js', '// Deletes things.\n// @risky\nfunction main() { return "x" }\n');
  skill('safe.js', '// Harmless.\nfunction main() { return "y" }\n');
  const m = new SkillManager(join(dir, 'workspace'), settingsFromEnv(env).skills, { assetsDir: null });
  const tool = skillRunTool(() => m);
  assert.equal(tool.isRisky!('danger now'), true);
  assert.equal(tool.isRisky!('safe'), false);
  for (const garbage of ['', '   ', '../danger', 'Danger', 'ghost', 'danger/..']) assert.equal(tool.isRisky!(garbage), false, garbage);
  assert.equal(tool.argsFromCall!({ skill: ' weather ', args: ' forecast|Hanoi ' }), 'weather forecast|Hanoi');
  assert.equal(tool.argsFromCall!({ skill: 42, args: null }), '');
});
