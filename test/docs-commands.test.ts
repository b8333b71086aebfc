// The docs stay true: every `rusty-pinch <command> [<subcommand>]` in a code span or block of
// the docs exists in the CLI, every `npm run <script>` exists in package.json, every
// `node scripts/<file>` exists, and every relative link points at a file that is there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CLI, ROOT } from './helpers.js';

const DOCS = ['README.md', 'SECURITY.md', 'CONTRIBUTING.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** Code blocks and inline code spans of a markdown text. */
function code(md: string): string[] {
  const out: string[] = [];
  const rest = md.replace(/```[^\n]*\n([\s\S]*?)```/g, (_, block: string) => (out.push(block), ''));
  for (const m of rest.matchAll(/`([^`\n]+)`/g)) out.push(m[1]!);
  return out;
}

function subcommands(path: string[]): string[] {
  const r = spawnSync(process.execPath, [CLI, ...path, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `rusty-pinch ${path.join(' ')} --help`);
  const section = r.stdout.split(/^Commands:$/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
}

/** `rusty-pinch a b` as a command line: not an option's value (`-u rusty-pinch env`), not a path, not a quoted `Error: …` message. */
const COMMAND = /(?:^|[\s(;|&])(?<!-[a-zA-Z] )(?<!Error: )(?<!--[a-z-]+ )(?:\S*\/)?rusty-pinch((?: [a-z][a-z-]*){1,2})/gm;

test('every rusty-pinch command the docs mention exists', () => {
  const top = subcommands([]);
  const groups = new Map<string, string[]>();
  const bad: string[] = [];
  let seen = 0;
  for (const f of DOCS) {
    for (const c of code(readFileSync(join(ROOT, f), 'utf8'))) {
      for (const m of c.matchAll(COMMAND)) {
        const [cmd, sub] = m[1]!.trim().split(' ');
        seen++;
        if (!top.includes(cmd!)) {
          bad.push(`${f}: rusty-pinch ${cmd}`);
          continue;
        }
        if (!groups.has(cmd!)) groups.set(cmd!, subcommands([cmd!]));
        const subs = groups.get(cmd!)!;
        if (sub && subs.length > 0 && !subs.includes(sub)) bad.push(`${f}: rusty-pinch ${cmd} ${sub}`);
      }
    }
  }
  assert.deepEqual(bad, []);
  assert.ok(seen > 20, `found ${seen} command mentions`);
});

test('every npm script, script file and relative link the docs mention exists', () => {
  const bad: string[] = [];
  for (const f of DOCS) {
    const md = readFileSync(join(ROOT, f), 'utf8');
    for (const c of code(md)) {
      for (const m of c.matchAll(/npm run ([\w:-]+)/g)) if (!scripts[m[1]!]) bad.push(`${f}: npm run ${m[1]}`);
      for (const m of c.matchAll(/node (scripts\/[\w.-]+)/g)) if (!existsSync(join(ROOT, m[1]!))) bad.push(`${f}: ${m[1]}`);
    }
    for (const m of md.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/.test(target)) continue;
      if (!existsSync(join(ROOT, dirname(f), target))) bad.push(`${f}: link ${target}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('the Node versions the docs, CI and image use satisfy package.json engines', () => {
  const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  const min = Number(/^>=(\d+)/.exec(engines)?.[1]);
  assert.equal(min, 20);
  assert.match(readFileSync(join(ROOT, '.github/workflows/ci.yml'), 'utf8'), new RegExp(`node: \\[${min}, `));
  const image = Number(/^ARG NODE_VERSION=(\d+)$/m.exec(readFileSync(join(ROOT, 'deploy/container/Dockerfile'), 'utf8'))?.[1]);
  assert.ok(image >= min);
  const pi = readFileSync(join(ROOT, 'docs/runbook-raspberry-pi.md'), 'utf8');
  for (const m of pi.matchAll(/setup_(\d+)\.x|V=v(\d+)\./g)) assert.ok(Number(m[1] ?? m[2]) >= min, m[0]);
  // The runbook no longer sends Pi users to Bookworm's Node 18.
  assert.doesNotMatch(readFileSync(join(ROOT, 'docs/runbook.md'), 'utf8'), /apt-get install -y nodejs npm\s+# Node\.js 20/);
});
