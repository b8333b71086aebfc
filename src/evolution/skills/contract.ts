// What the model is told when it writes a skill: the skill contract (file shape, host functions,
// budgets, argument and result rules, an example) and, on a retry, the exact failure and code.
import type { SkillSettings } from '../../config/index.js';

const EXAMPLE = [
  '```js',
  '// Says hello to a name (args: the name; empty args: "world").',
  'function main(args) {',
  '  const name = args.trim() || "world";',
  '  log_info("greeting " + name);',
  '  return "Hello, " + name + "!";',
  '}',
  '```',
  '```json',
  '{"samples": ["", "Ada"]}',
  '```',
].join('\n');

/** The system prompt of a generation turn. */
export function skillInstructions(limits: SkillSettings): string {
  return [
    'You write skills for Rusty Pinch, a personal assistant. A skill is ONE plain JavaScript file (ES2023, script, not a module) run in a QuickJS sandbox.',
    '',
    '## Contract',
    '- Define a top-level `function main(args)` (or `async function main(args)`). `args` is always a string (may be empty: then do something sensible by default).',
    '- `main` must return a non-empty string (or a promise of one) for every argument; a string of only whitespace counts as empty. Anything else is a failure.',
    '- Start the file with `//` comment lines: the first paragraph is the description shown to users. Add the marker `@risky` on its own comment line if the skill changes anything outside itself.',
    '- No `import`, `require`, `fetch`, `process`, timers, files or eval. Only these host functions exist:',
    '  - `log_info(message)` — a log line (at most 200 per run).',
    '  - `time_now()` — the current time as an RFC 3339 string.',
    `  - \`await http_get(url)\` and \`await http_post(url, body)\` — {status, body, headers}; http(s) only, private/loopback addresses are refused; at most ${limits.maxHttpCalls} calls per run, ${limits.httpTimeoutSecs} s each. http_post needs operator approval before the skill goes live.`,
    `- Budgets per run: ${limits.timeoutMs} ms wall time, ${limits.memoryLimitMb} MiB memory, ${Math.round(limits.maxOutputBytes / 1024)} KiB of output.`,
    '',
    '## Answer format',
    'Reply with exactly one ```js code block holding the whole file, then one ```json block `{"samples": [...]}` with 1 to 4 argument strings that exercise the skill (they are run to test it; include "" if empty args must work). Without a samples block the skill is run with "" and with the values the goal names (quoted text, URLs, examples, places). No other text is needed.',
    '',
    '## Example',
    EXAMPLE,
  ].join('\n');
}

/** The first request of a generation. */
export function skillRequest(name: string, goal: string): string {
  return `Write the skill '${name}'. Goal: ${goal}`;
}

/** A correction request: the exact error and the code that produced it. */
export function correctionRequest(name: string, goal: string, attempt: number, code: string, error: string): string {
  return [
    `Attempt ${attempt} of the skill '${name}' failed validation. Goal: ${goal}`,
    '',
    'Error:',
    error,
    '',
    'Failing code:',
    '```js',
    code,
    '```',
    '',
    'Fix it and answer in the same format (one ```js block with the whole file, one ```json samples block).',
  ].join('\n');
}
