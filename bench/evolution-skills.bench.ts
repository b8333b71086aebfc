// Evolution I (skills) benchmark (issue 10), on the fake OpenAI-compatible server through the real
// runtime door: (1) attempts to converge when the model first answers broken code, then good
// code (goal: 2, every time); (2) time per generation excluding model latency (time inside
// door.agent is subtracted), against a baseline measured in the same run: validation alone
// (compile + sample runs) of the same code. Goal: the whole pipeline (prompting, parsing,
// staging, validation, atomic promotion, audit, telemetry) <= 3x validation alone + 15 ms.
import { createApp } from '../src/app/index.js';
import { generationDeps } from '../src/app/evolution-deps.js';
import { settingsFromEnv } from '../src/config/index.js';
import { generateSkill, validateCandidate } from '../src/evolution/skills/index.js';
import { setEventSink } from '../src/observe/index.js';
import { startFakeOpenAI, text } from '../test/fakes/openai-server.js';
import { cleanEnv, tempDir } from '../test/helpers.js';

setEventSink(() => undefined);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (n: number) => `${n.toFixed(2)} ms`;

const CODE = '// Reverses text.\nfunction main(args) {\n  return args.split("").reverse().join("") || "(empty)";\n}';
const GOOD = '```js\n' + CODE + '\n```\n```json\n{"samples": ["abc", ""]}\n```';
const BROKEN = '```js\nfunction main(args) {\n  return args.split("").reverse().join("")\n  oops here\n}\n```';

const fake = await startFakeOpenAI();
const { dir, cleanup } = tempDir('rp-evo-bench-');
try {
  const env = cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'openai', RUSTY_PINCH_API_BASE: fake.base, RUSTY_PINCH_OPENAI_API_KEY: 'sk-bench-123456', RUSTY_PINCH_CODEX_ENABLED: 'false', RUSTY_PINCH_EVOLUTION_SKILL_DAILY_BUDGET: '1000' });
  const app = await createApp({ settings: settingsFromEnv(env, dir) });
  let modelMs = 0;
  const door = { agent: async (task: Parameters<typeof app.runtime.agent>[0]) => {
    const t = performance.now();
    try {
      return await app.runtime.agent(task);
    } finally {
      modelMs += performance.now() - t;
    }
  } };
  const deps = generationDeps(app, { door });
  const N = 20;
  const attempts: number[] = [];
  const pipeline: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < 3; i++) await validateCandidate(app.skills, 'warm', CODE, ['abc', '']); // warm-up
  for (let i = 0; i < N; i++) {
    fake.script(text(BROKEN), text(GOOD));
    modelMs = 0;
    const t = performance.now();
    const r = await generateSkill(deps, { name: `rev${i}`, goal: 'reverse the text given' });
    pipeline.push(performance.now() - t - modelMs);
    if (r.status !== 'promoted') throw new Error(`generation ${i} did not converge: ${r.error}`);
    attempts.push(r.attempts);
    const b = performance.now();
    await validateCandidate(app.skills, `base${i}`, CODE, ['abc', '']);
    baseline.push(performance.now() - b);
  }
  await app.close();
  const conv = attempts.every((a) => a === 2);
  console.log(`attempts to converge (broken then good, ${N} runs): ${[...new Set(attempts)].join(',')}; goal 2 every time: ${conv ? 'PASS' : 'MISS'}`);
  const p = median(pipeline);
  const base = median(baseline);
  // Both pipeline figures cover two attempts (one validation failing at compile, one passing).
  const ok = p <= 3 * base + 15;
  console.log(`time per generation excluding model latency: median ${ms(p)} (max ${ms(Math.max(...pipeline))}); baseline validation alone ${ms(base)}; ratio ${(p / base).toFixed(2)}; goal <= 3x baseline + 15 ms: ${ok ? 'PASS' : 'MISS'}`);
} finally {
  await fake.close();
  cleanup();
}
