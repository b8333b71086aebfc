// Escape battery and budgets for the QuickJS skill sandbox (real worker threads): every attempt
// is refused or contained, and a normal skill still runs afterwards.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SkillManager } from '../src/skills/index.js';
import type { SkillSettings } from '../src/config/index.js';
import { setEventSink } from '../src/observe/index.js';
import { tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('rp-skills-sb-');
const settings: SkillSettings = { httpTimeoutSecs: 2, httpAllow: [], memoryLimitMb: 16, timeoutMs: 1500, maxOutputBytes: 64 * 1024, maxHttpCalls: 4, httpMaxBodyBytes: 64 * 1024 };
const manager = new SkillManager(dir, settings, { assetsDir: null });
// Budgets other than wall time (memory, stack, output, host calls) are checked with a roomy wall
// time, so a busy machine cannot make the clock win the race.
const roomy = new SkillManager(dir, { ...settings, timeoutMs: 60_000 }, { assetsDir: null });
const logs: string[] = [];
const prevSink = setEventSink((line) => logs.push(line));
after(async () => {
  await manager.close();
  await roomy.close();
  setEventSink(prevSink);
  cleanup();
});

function skill(name: string, source: string): string {
  mkdirSync(join(dir, 'skills'), { recursive: true });
  writeFileSync(join(dir, 'skills', `${name}.js`), source);
  return name;
}

async function stillHealthy(m = manager): Promise<void> {
  skill('normal', 'function main(a) { return "ok:" + a }');
  assert.equal(await m.run('normal', 'x'), 'ok:x');
}

async function refused(name: string, source: string, pattern: RegExp, m = manager): Promise<void> {
  skill(name, source);
  await assert.rejects(m.run(name, ''), (err: Error) => {
    assert.match(err.message, pattern);
    return true;
  });
  await stillHealthy(m);
}

test('only ECMAScript built-ins and the host functions exist', async () => {
  skill('globals', `function main() {
    const names = ['require','process','module','exports','Buffer','fetch','setTimeout','setInterval','console','WebAssembly','XMLHttpRequest','Deno','Bun','global','__dirname','std','os'];
    return JSON.stringify(names.filter((n) => typeof globalThis[n] !== 'undefined').concat([typeof http_get, typeof http_post, typeof log_info, typeof time_now]));
  }`);
  assert.deepEqual(JSON.parse(await manager.run('globals', '')), ['function', 'function', 'function', 'function']);
});

test('require / process / import() are refused', async () => {
  await refused('req', 'function main() { return require("fs").readFileSync("/etc/passwd", "utf8") }', /ReferenceError: 'require' is not defined/);
  await refused('proc', 'function main() { return process.env.HOME }', /ReferenceError: 'process' is not defined/);
  await refused('imp', 'async function main() { const fs = await import("fs"); return fs.readFileSync("/etc/passwd") }', /could not load module 'fs'/);
  await refused('imp2', 'async function main() { await import("file:///etc/passwd"); }', /could not load module/);
  await refused('static-import', 'import fs from "fs";\nfunction main() { return 1 }', /SyntaxError/);
});

test('globalThis, Function and constructor chains reach only the guest realm', async () => {
  skill('chains', `function main() {
    const g1 = (function () { return this })();
    const g2 = Function('return this')();
    const g3 = http_get.constructor('return this')();
    const g4 = (async function () {}).constructor('return this');
    const g5 = [].constructor.constructor('return globalThis')();
    const g6 = Object.getPrototypeOf(log_info).constructor('return typeof process')();
    const leaks = [g1, g2, g3, g5].map((g) => typeof g.process + typeof g.require);
    return JSON.stringify({ same: g1 === g2 && g2 === g3 && g3 === g5, leaks, g6, g4: typeof g4 });
  }`);
  const r = JSON.parse(await manager.run('chains', ''));
  assert.equal(r.same, true);
  assert.deepEqual(r.leaks, ['undefinedundefined', 'undefinedundefined', 'undefinedundefined', 'undefinedundefined']);
  assert.equal(r.g6, 'undefined');
});

test('prototype pollution and host-function tampering do not reach the host or the next run', async () => {
  skill('pollute', `function main() {
    Object.prototype.polluted = 'yes';
    Array.prototype.join = function () { return 'hijacked' };
    JSON.stringify = () => 'hijacked';
    String.prototype.trim = () => 'hijacked';
    try { http_get = () => 'fake' } catch (e) {}
    try { Object.defineProperty(globalThis, 'log_info', { value: 1 }) } catch (e) {}
    Function.prototype.call = null;
    return { a: 1 };
  }`);
  // The result is stringified with the JSON.stringify captured before the skill ran.
  assert.equal(await manager.run('pollute', ''), '{"a":1}');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal([1, 2].join(','), '1,2');
  skill('probe', `function main() {
    return JSON.stringify([({}).polluted, [1,2].join(','), ' x '.trim(), typeof http_get, typeof log_info, typeof Function.prototype.call]);
  }`);
  assert.deepEqual(JSON.parse(await manager.run('probe', '')), [null, '1,2', 'x', 'function', 'function', 'function']);
  skill('tamper-result', `async function main() {
    Object.defineProperty(Object.prototype, 'status', { get() { while (true) {} }, configurable: true });
    return 'done';
  }`);
  assert.equal(await manager.run('tamper-result', ''), 'done');
});

test('infinite loops end with the wall-time budget: sync, async, microtask and heavy native ops', async () => {
  await refused('loop', 'function main() { while (true) {} }', /wall-time budget \(1500 ms\)/);
  await refused('async-loop', 'async function main() { await null; for (;;) {} }', /wall-time budget/);
  await refused('microtasks', 'async function main() { for (;;) { await Promise.resolve(1) } }', /wall-time budget/);
  await refused('toplevel-loop', 'for (;;) {}\nfunction main() {}', /wall-time budget/);
  // Each iteration is one heavy native call, so QuickJS polls its interrupt handler rarely:
  // the worker watchdog must stop it.
  await refused('native-hog', 'function main() { let n = 0; for (;;) { "x".repeat(1 << 22); n++ } }', /wall-time budget/);
});

test('memory bombs, deep recursion, huge output and host-call floods end with a named budget', async () => {
  await refused('membomb', 'function main() { const a = []; for (let i = 0; ; i++) a.push("x".repeat(1000) + i) }', /memory budget \(16 MiB\)/, roomy);
  await refused('bigstring', 'function main() { let s = "x"; for (;;) s += s }', /memory budget|string too long/, roomy);
  await refused('recursion', 'function main() { function f(n) { return f(n + 1) + 1 } return f(0) }', /stack budget \(256 KiB\)/, roomy);
  await refused('huge-output', 'function main() { return "y".repeat(100000) }', /output budget \(65536 bytes\)/, roomy);
  await refused('http-flood', 'async function main() { const p = []; for (let i = 0; i < 50; i++) p.push(http_get("http://example.invalid/" + i).catch(() => 0)); await Promise.all(p) }', /http call budget \(max 4 calls per run\)/, roomy);
  await refused('http-flood-caught', 'function main() { for (;;) { try { http_post("http://example.invalid/", "x") } catch (e) {} } }', /http call budget/, roomy);
  await refused('log-flood', 'function main() { for (;;) log_info("spam") }', /log budget/, roomy);
});

test('errors name the failure; bad return values and never-settling promises are contained', async () => {
  await refused('nomain', 'var x = 1', /does not define a main\(args\) function/, roomy);
  await refused('throws', 'function main() {\n  null.x\n}', /TypeError: cannot read property 'x' of null \(at throws\.js:2/, roomy);
  await refused('never', 'function main() { return new Promise(() => {}) }', /never settles/, roomy);
  await refused('bad-tostring', 'function main() { return { toString() { throw new Error("nope") }, toJSON() { throw new Error("nope") } } }', /failed converting the result/, roomy);
  skill('values', 'function main(a) { return a === "" ? undefined : a === "n" ? 42 : [1, "two"] }');
  assert.equal(await manager.run('values', ''), '');
  assert.equal(await manager.run('values', 'n'), '42');
  assert.equal(await manager.run('values', 'arr'), '[1,"two"]');
});

test('concurrent runs are isolated: a runaway skill does not change another run', async () => {
  skill('slow-ok', 'async function main(a) { let s = 0; for (let i = 0; i < 1e5; i++) s += i; return "sum=" + s + ":" + a }');
  skill('runaway', 'function main() { for (;;) {} }');
  const results = await Promise.allSettled([manager.run('runaway', ''), manager.run('slow-ok', '1'), manager.run('slow-ok', '2')]);
  assert.equal(results[0]!.status, 'rejected');
  assert.deepEqual(results.slice(1).map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)), ['sum=4999950000:1', 'sum=4999950000:2']);
});

test('log_info writes skill_log events; time_now is RFC 3339', async () => {
  logs.length = 0;
  skill('logger', 'function main() { log_info("hello " + 1); log_info(7); return time_now() }');
  const out = await manager.run('logger', '');
  assert.match(out, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
  const events = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === 'skill_log');
  assert.deepEqual(events.map((e) => e.message), ['hello 1', '7']);
  assert.equal(events[0]!.skill, 'logger');
});
