// The real @openai/codex CLI for tests and benches: installed on first use from the pinned
// fixture package (test/fixtures/real-codex) into a cache outside the project
// (~/.cache/rusty-pinch-test/real-codex-<version>, or $RUSTY_PINCH_TEST_CACHE), reused after.
// When it cannot be installed this throws: the tests fail loudly, they never skip.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT } from './helpers.js';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'real-codex', 'package.json');

export function realCodexVersion(): string {
  return (JSON.parse(readFileSync(FIXTURE, 'utf8')) as { dependencies: Record<string, string> }).dependencies['@openai/codex']!;
}

/** Absolute path of the real `codex` launcher, installing it first when needed. */
export function realCodexBin(): string {
  const version = realCodexVersion();
  const root = process.env.RUSTY_PINCH_TEST_CACHE || join(homedir(), '.cache', 'rusty-pinch-test');
  const dir = join(root, `real-codex-${version}`);
  const bin = join(dir, 'node_modules', '.bin', 'codex');
  const ok = (): boolean => existsSync(bin) && spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 60_000 }).stdout?.includes(version);
  if (ok()) return bin;
  mkdirSync(dir, { recursive: true });
  copyFileSync(FIXTURE, join(dir, 'package.json'));
  process.stderr.write(`installing @openai/codex ${version} into ${dir} (first use, about 400 MB)…\n`);
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, encoding: 'utf8', timeout: 15 * 60_000 });
  if (r.status !== 0 || !ok()) {
    throw new Error(`could not install the real Codex CLI (@openai/codex ${version}) into ${dir}: ${r.error?.message ?? ''} ${r.stderr ?? ''}`.trim());
  }
  return bin;
}

/** Writes a Codex home that talks to `baseUrl` (the loopback Responses API) and keeps its login in a file. */
export function writeCodexHomeConfig(home: string, baseUrl: string): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  // ChatGPT logins talk to the backend (`chatgpt_base_url`), API keys to `openai_base_url`.
  const backend = baseUrl.replace(/\/v1$/, '/backend-api/');
  writeFileSync(join(home, 'config.toml'), `openai_base_url = "${baseUrl}"\nchatgpt_base_url = "${backend}"\ncli_auth_credentials_store = "file"\n`);
}

/** `printf KEY | codex login --with-api-key` in `home`, as an operator does. */
export function operatorLogin(bin: string, home: string, key: string): void {
  const r = spawnSync(bin, ['login', '--with-api-key'], { input: key, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CODEX_HOME: home }, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`codex login failed: ${r.stderr}`);
}
