// Docs stay true: .env.example names every variable the code reads, parses with our own
// parser, and the defaults it shows are the defaults the code uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnvText, settingsFromEnv } from '../src/config/index.js';
import { ROOT } from './helpers.js';

const example = readFileSync(join(ROOT, '.env.example'), 'utf8');

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

test('.env.example lists every RUSTY_PINCH_* variable the code reads', () => {
  const read = new Set<string>();
  for (const f of sourceFiles(join(ROOT, 'src'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/'(RUSTY_PINCH_[A-Z0-9_]+)'/g)) read.add(m[1]!);
  }
  const missing = [...read].filter((v) => !new RegExp(`^#? ?${v}=`, 'm').test(example)).sort();
  assert.deepEqual(missing, []);
});

test('.env.example parses, and the values it shows are the real defaults', () => {
  const env = Object.fromEntries(parseEnvText(example));
  const fromExample = settingsFromEnv(env, '/srv/rp');
  const defaults = settingsFromEnv({}, '/srv/rp');
  assert.deepEqual(fromExample.issues, []);
  const strip = (s: ReturnType<typeof settingsFromEnv>) => ({ ...s, env: undefined, envFile: undefined });
  assert.deepEqual(strip(fromExample), strip(defaults));
});

test('README gives the two set-up commands and CI runs the same test command', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.match(readme, /npm install && RUSTY_PINCH_PROVIDER=local \.\/bin\/rusty-pinch run --session demo --message "hello"/);
  assert.match(readme, /^npm test$/m);
  const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
  assert.match(ci, /^npm test$/m);
});
