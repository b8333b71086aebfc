// Shared test helpers: temp directories, a clean environment, and running the built CLI as a
// user would (bin/rusty-pinch → dist/). Tests never touch the real home or network.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';

export const ROOT = resolve(import.meta.dirname, '..');
export const CLI = join(ROOT, 'bin', 'rusty-pinch');
export const FAKE_CODEX = join(ROOT, 'test', 'fakes', 'fake-codex.mjs');

/** A fresh temp dir, removed by the returned cleanup. */
export function tempDir(prefix = 'rp-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // Retries: a lock or telemetry file released a moment after a test ends can make a single
  // recursive removal fail with ENOTEMPTY on a busy machine.
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }) };
}

/**
 * An environment with no RUSTY_PINCH_* or *_API_KEY variables from the host, data and
 * workspace under `dir`, provider `local` unless overridden.
 */
export function cleanEnv(dir: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (k.startsWith('RUSTY_PINCH_') || k.endsWith('_API_KEY') || k.endsWith('_API_BASE') || k.startsWith('PICOCLAW_') || k.startsWith('FAKE_CODEX') || k === 'FORCE_COLOR') continue; // piped output stays plain
    env[k] = v;
  }
  env.RUSTY_PINCH_PROVIDER = 'local';
  env.RUSTY_PINCH_DATA_DIR = join(dir, 'data');
  env.RUSTY_PINCH_WORKSPACE = join(dir, 'workspace');
  env.RUSTY_PINCH_OPS_ADDR = 'off';
  // Never the machine's own Codex login: the default account uses CODEX_HOME.
  env.CODEX_HOME = join(dir, 'codex-home');
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function writeEnvFile(dir: string, lines: string[]): string {
  const file = join(dir, 'test.env');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI; `input` is written to stdin. Rejects only if it cannot start. */
export function runCli(args: string[], options: { env: Record<string, string>; cwd?: string; input?: string; timeoutMs?: number }): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: options.env, cwd: options.cwd ?? options.env.RUSTY_PINCH_DATA_DIR?.replace(/\/data$/, '') ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Parsed `{"event":…}` lines from a stderr dump. */
export function events(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    })
    .filter((e) => typeof e.event === 'string');
}

/** Starts the CLI in the background: the child, a promise of its result, and its stderr so far. */
export function startCli(args: string[], env: Record<string, string>, timeoutMs = 25_000): { child: ChildProcess; result: Promise<CliResult>; stderr: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const result = new Promise<CliResult>((resolveResult) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveResult({ code, signal, stdout, stderr });
    }),
  );
  return { child, result, stderr: () => stderr };
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** An HTTP server answering 200 `ok` in a child process (its CPU is not the caller's). */
export async function startOkServerProcess(): Promise<{ url: string; stop: () => void }> {
  const code = `const s=require('http').createServer((q,r)=>r.end('ok'));s.keepAliveTimeout=60000;s.listen(0,'127.0.0.1',()=>console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((r) => child.stdout!.once('data', (d: Buffer) => r(d.toString().trim())));
  return { url: `http://127.0.0.1:${port}/health`, stop: () => child.kill() };
}

/** Whether a process is running (a zombie waiting to be reaped counts as gone). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Waits until the process is gone; false if it is still running after `ms`. */
export async function processGone(pid: number, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!processAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !processAlive(pid);
}
