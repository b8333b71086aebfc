// The house rules, checked: imports point downward (cli → app → core → parts → base), no import
// cycles between folders nor between files, other folders import a folder only through its
// index.ts face, and no source file grows past the size budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT } from './helpers.js';

const SRC = join(ROOT, 'src');
const LAYER: Record<string, number> = {
  cli: 5,
  app: 4,
  core: 3,
  providers: 2,
  tools: 2,
  skills: 2,
  brain: 2,
  pulse: 2,
  evolution: 2,
  channels: 2,
  monitor: 2,
  store: 1,
  net: 1,
  observe: 1,
  config: 1,
  kernel: 0,
};
const MAX_LINES = 500;

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

interface Edge {
  from: string;
  to: string;
  fromFolder: string;
  toFolder: string;
  typeOnly: boolean;
}

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const f of files(SRC)) {
    const text = readFileSync(f, 'utf8');
    const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const spec = m[3] ?? m[4]!;
      const target = resolve(dirname(f), spec.replace(/\.js$/, '.ts'));
      const fromFolder = relative(SRC, f).split('/')[0]!;
      const toFolder = relative(SRC, target).split('/')[0]!;
      out.push({ from: relative(SRC, f), to: relative(SRC, target), fromFolder, toFolder, typeOnly: Boolean(m[2]) });
    }
  }
  return out;
}

test('every src folder has a known layer', () => {
  for (const name of readdirSync(SRC)) if (statSync(join(SRC, name)).isDirectory()) assert.ok(name in LAYER, `unknown folder src/${name}: add it to the layer table`);
});

test('imports never point to a higher layer', () => {
  const bad: string[] = [];
  for (const e of edges()) {
    if (e.fromFolder === e.toFolder || !(e.fromFolder in LAYER)) continue;
    const up = LAYER[e.toFolder]! > LAYER[e.fromFolder]!;
    if (up) bad.push(`${e.from} → ${e.to}`);
  }
  assert.deepEqual(bad, []);
});

// Exception: the CLI imports app's composition roots (serve, channel host, Pulse and Codex for
// one-shot commands) directly and lazily, so a command loads only the root it needs.
test('other folders import a folder through its index.ts face', () => {
  const bad: string[] = [];
  for (const e of edges()) {
    if (e.fromFolder === e.toFolder) continue;
    if (e.fromFolder === 'cli' && e.toFolder === 'app') continue;
    if (!e.to.endsWith('/index.ts')) bad.push(`${e.from} → ${e.to}`);
  }
  assert.deepEqual(bad, []);
});

test('no import cycles between folders', () => {
  const graph = new Map<string, Set<string>>();
  for (const e of edges()) {
    if (e.fromFolder === e.toFolder || e.typeOnly) continue;
    if (!graph.has(e.fromFolder)) graph.set(e.fromFolder, new Set());
    graph.get(e.fromFolder)!.add(e.toFolder);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const visit = (n: string, path: string[]) => {
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'visiting') {
      cycles.push([...path.slice(path.indexOf(n)), n].join(' → '));
      return;
    }
    state.set(n, 'visiting');
    for (const m of graph.get(n) ?? []) visit(m, [...path, n]);
    state.set(n, 'done');
  };
  for (const n of graph.keys()) visit(n, []);
  assert.deepEqual(cycles, []);
});

// Type-only imports count too: a circle of files is one module in disguise, whatever it imports.
test('no import cycles between files', () => {
  const graph = new Map<string, Set<string>>();
  for (const e of edges()) {
    if (!graph.has(e.from)) graph.set(e.from, new Set());
    graph.get(e.from)!.add(e.to);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const visit = (n: string, path: string[]) => {
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'visiting') {
      cycles.push([...path.slice(path.indexOf(n)), n].join(' → '));
      return;
    }
    state.set(n, 'visiting');
    for (const m of graph.get(n) ?? []) visit(m, [...path, n]);
    state.set(n, 'done');
  };
  for (const n of [...graph.keys()].sort()) visit(n, []);
  assert.deepEqual(cycles, []);
});

test(`no source file over ${MAX_LINES} lines`, () => {
  const big = files(SRC)
    .map((f) => [relative(ROOT, f), readFileSync(f, 'utf8').split('\n').length] as const)
    .filter(([, n]) => n > MAX_LINES);
  assert.deepEqual(big, []);
});
