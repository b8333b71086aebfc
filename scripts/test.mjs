// Runs every *.test.ts under test/ and src/ with Node's built-in test runner (Node 20 has no
// glob support in --test, so the files are listed here). Extra args filter by substring.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir, out = []) {
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'fakes') continue;
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = [...find('test'), ...find('src')]
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Tests that drive the real Codex CLI (a multi-threaded native binary) run on their own after
// the rest, so they never compete for the CPU with tests that have time budgets.
const solo = (f) => f.includes('real-codex');
let status = 0;
for (const [group, concurrency] of [[files.filter((f) => !solo(f)), 2], [files.filter(solo), 1]]) {
  if (group.length === 0) continue;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...group], {
    stdio: 'inherit',
    env: { ...process.env, RUSTY_PINCH_TEST: '1' },
  });
  if (r.status !== 0) status = r.status ?? 1;
}
process.exit(status);
