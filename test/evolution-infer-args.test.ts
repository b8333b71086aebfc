// A reply that is only a code block: the candidate runs with "" and the arguments the goal
// implies (quoted text, URLs, an example, a name or number after a preposition). Deterministic,
// bounded, and garbage in gives at most a few short strings, never an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { MAX_INFERRED } from '../src/evolution/skills/infer-args.js';
import { generateSkill, inferSampleArgs, parseCandidate, validateCandidate, type GenerationDeps } from '../src/evolution/skills/index.js';
import { SkillManager } from '../src/skills/index.js';
import { setEventSink } from '../src/observe/index.js';
import { loadSkillSettingsForTest } from './evolution-helpers.js';
import { tempDir } from './helpers.js';

test('inferSampleArgs: the values a goal names', () => {
  const cases: Array<[string, string[]]> = [
    ['weather for a city, e.g. Berlin', ['Berlin']],
    ['current weather in New York', ['New York']],
    ['convert "42 km" to miles', ['42 km']],
    ["translate 'hello world' to German", ['hello world', 'German']],
    ['fetch the title of https://example.com/page', ['https://example.com/page']],
    ['summarise the status page of status.example.org', ['status.example.org']],
    ['factorial of 10', ['10']],
    ['greet people like Ada or Grace', ['Ada']],
    ['time in München or Zürich', ['München']],
    ['words such as apple, pear', ['apple']],
    ['reverse the text it is given', []],
    ["I'd like a skill that doesn't break, it's fine", []],
    ['answer in JSON for Example', []],
    ['', []],
  ];
  for (const [goal, want] of cases) assert.deepEqual(inferSampleArgs(goal), want, goal);
  // Deterministic, no duplicates, no "" (the caller adds it first).
  assert.deepEqual(inferSampleArgs('"Paris" or "Paris", e.g. Paris'), ['Paris']);
  assert.deepEqual(inferSampleArgs('"one" "two" "three" "four"'), ['one', 'two', 'three'], 'at most MAX_INFERRED');
});

test('inferSampleArgs: garbage gives a few short clean strings, never an error, in bounded time', () => {
  const garbage: unknown[] = [null, undefined, 42, {}, '\u0000\u0001 "x\u0002"', '"'.repeat(5000), "x'".repeat(5000), 'a.'.repeat(5000) + '!', 'e.g. '.repeat(2000), 'in A'.repeat(3000), 'for '.repeat(5000), 'x'.repeat(1_000_000)];
  for (let i = 0; i < 200; i++) garbage.push(randomBytes(64 + i * 8).toString(i % 2 ? 'latin1' : 'utf8'));
  const started = performance.now();
  for (const g of garbage) {
    const out = inferSampleArgs(g as string);
    assert.ok(Array.isArray(out) && out.length <= MAX_INFERRED, JSON.stringify(out));
    for (const a of out) {
      assert.equal(typeof a, 'string');
      assert.ok(a.length > 0 && a.length <= 80, a);
      assert.doesNotMatch(a, /[\u0000-\u001f\u007f]/);
    }
  }
  // Generous (a loaded 2-core CI box): the scan is linear in a capped prefix of the goal.
  assert.ok(performance.now() - started < 10_000);
});

test('parseCandidate: a code-only reply runs with "" and the implied arguments; model samples win', () => {
  assert.deepEqual(parseCandidate('```js\nfunction main(a){return a||"x"}\n```', 'weather in Berlin'), { code: 'function main(a){return a||"x"}', samples: ['', 'Berlin'], samplesFrom: 'goal' });
  assert.deepEqual(parseCandidate('function main(){return "x"}', 'say hi').samples, ['']);
  assert.equal(parseCandidate('function main(){return "x"}', 'say hi').samplesFrom, 'default');
  assert.deepEqual(parseCandidate('```js\nfunction main(a){return a}\n```\n```json\n{"samples":["Rome"]}\n```', 'weather in Berlin').samples, ['Rome']);
});

test('validation: an implied argument that breaks the skill fails it with that argument in the error; whitespace is empty', async () => {
  const { dir, cleanup } = tempDir('rp-evo-infer-');
  const skills = new SkillManager(dir, loadSkillSettingsForTest(), { assetsDir: null });
  const prev = setEventSink(() => undefined);
  try {
    const ok = await validateCandidate(skills, 'w', 'function main(a) { return "weather: " + (a || "here") }', ['', 'Berlin']);
    assert.deepEqual(ok, { ok: true, outputs: [{ args: '', output: 'weather: here' }, { args: 'Berlin', output: 'weather: Berlin' }] });
    const bad = await validateCandidate(skills, 'w', 'function main(a) { if (a) throw new Error("no city support"); return "here" }', ['', 'Berlin']);
    assert.equal(bad.ok, false);
    assert.match((bad as { error: string }).error, /^main\("Berlin"\) failed: .*no city support/);
    const blank = await validateCandidate(skills, 'w', 'function main(a) { return a ? "   " : "ok" }', ['', 'Berlin']);
    assert.match((blank as { error: string }).error, /^main\("Berlin"\) returned an empty string$/);

    // Through the pipeline: the code-only answer is corrected with the implied argument's error.
    const prompts: string[] = [];
    const answers = ['```js\n// Weather.\nfunction main(a) { if (a) throw new Error("no city support"); return "sunny" }\n```', '```js\n// Weather.\nfunction main(a) { return "sunny in " + (a || "here") }\n```'];
    let n = 0;
    const deps: GenerationDeps = {
      door: { agent: async (task) => (prompts.push(task.prompt), { requestId: `rp-i${n}`, sessionId: task.sessionId, status: 'ok', text: answers[n++]!, path: 'provider' }) },
      sandbox: skills,
      skillsDir: join(dir, 'skills'),
      workspace: dir,
      limits: loadSkillSettingsForTest(),
      model: 'provider:test',
    };
    const r = await generateSkill(deps, { name: 'weather', goal: 'the weather for a city, e.g. Berlin' });
    assert.equal(r.status, 'promoted', r.error ?? '');
    assert.equal(r.attempts, 2);
    assert.match(prompts[1]!, /main\("Berlin"\) failed: .*no city support/);
    assert.deepEqual(r.outputs, [{ args: '', output: 'sunny in here' }, { args: 'Berlin', output: 'sunny in Berlin' }]);
    assert.ok(existsSync(join(dir, 'skills', 'weather.js')));
  } finally {
    setEventSink(prev);
    await skills.close();
    cleanup();
  }
});
