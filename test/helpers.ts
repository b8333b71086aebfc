// Shared test helpers: temp directories, a clean environment, and running the built CLI as a
// user would (bin/rusty-pinch → dist/). Tests never touch the real home or network.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';

export const ROOT = resolve(import.meta.dirname, '..');
export const CLI = join(ROOT, 'bin', 'rusty-pinch');
export const FAKE_CODEX = join(ROOT, 'test', 'fakes', 'fake-codex.mjs');

/** A fresh temp dir, removed by the returned cleanup. */
export function tempDir(prefix = 'rp-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * An environment with no RUSTY_PINCH_* or *_API_KEY variables from the host, data and
 * workspace under `dir`, provider `local` unless overridden.
 */
export function cleanEnv(dir: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (k.startsWith('RUSTY_PINCH_') || k.endsWith('_API_KEY') || k.endsWith('_API_BASE') || k.startsWith('PICOCLAW_') || k.startsWith('FAKE_CODEX')) continue;
    env[k] = v;
  }
  env.RUSTY_PINCH_PROVIDER = 'local';
  env.RUSTY_PINCH_DATA_DIR = join(dir, 'data');
  env.RUSTY_PINCH_WORKSPACE = join(dir, 'workspace');
  env.RUSTY_PINCH_OPS_ADDR = 'off';
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
