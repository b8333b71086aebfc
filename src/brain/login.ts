// Logging accounts in. `codex login --account <id>` runs the CLI's own login inside that
// account's home (interactive, `--with-api-key` from the account's variable on stdin, or
// `--device-auth` for a headless host). autoLogin() is the bootstrap of the original container
// entrypoint, run by health checks for configured accounts that are not logged in:
// RUSTY_PINCH_CODEX_AUTO_LOGIN(_MODE), _AUTO_LOGIN_API_KEY_ENV, _CHATGPT_AUTH_FILE/_JSON_B64,
// _CHATGPT_DEVICE_AUTH, _LOGIN_TIMEOUT_SECS. Keys go on stdin or in the environment, never argv.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, ValidationError, errorChain, redactSecrets, registerSecrets } from '../kernel/index.js';
import { emitEvent } from '../observe/index.js';
import { runCodexProcess } from '../providers/index.js';
import { readJsonFile, writeJsonAtomic } from '../store/index.js';
import type { CodexAccountConfig, Settings } from '../config/index.js';
import { accountEnv, accountHome, loginCommand, ownsHomes, prepareHome } from './accounts.js';
import { runFailure, type CodexRunner, type LoginHooks } from './run-types.js';

export interface LoginResult {
  status: 'ok' | 'error';
  account_id: string;
  codex_home: string;
  exit_code: number | null;
  message: string | null;
}

/** Hard limit for an interactive login (a browser round trip), at least the run timeout. */
const INTERACTIVE_LOGIN_MIN_MS = 15 * 60_000;

/** The key an api-key login uses: the account's own variable, else RUSTY_PINCH_CODEX_AUTO_LOGIN_API_KEY_ENV. */
function loginKey(settings: Settings, account: CodexAccountConfig, env: Record<string, string>): { key: string; from: string } | undefined {
  if (account.apiKeyEnv && env[account.apiKeyEnv]) return { key: env[account.apiKeyEnv]!, from: account.apiKeyEnv };
  const name = settings.codex.autoLoginApiKeyEnv;
  const v = settings.env[name]?.trim();
  return v ? { key: v, from: name } : undefined;
}

async function loginWithKey(settings: Settings, env: Record<string, string>, key: string, runner: CodexRunner): Promise<{ ok: boolean; message: string | null; exitCode: number | null }> {
  registerSecrets([key]);
  const timeoutMs = settings.codex.loginTimeoutSecs * 1000;
  const res = await runner({ bin: settings.codex.cliBin, args: ['login', '--with-api-key'], stdin: `${key}\n`, env, timeoutMs, cwd: settings.cwd });
  const failure = runFailure(res, timeoutMs, 'codex login');
  return { ok: !failure, message: failure ?? null, exitCode: res.exitCode };
}

/** Seeds `home/auth.json` from the ChatGPT auth material, once, and never two homes from one login. */
export function seedChatgptAuth(settings: Settings, account: CodexAccountConfig): { ok: boolean; message: string | null } {
  const c = settings.codex;
  let material: string;
  let from: string;
  try {
    if (c.chatgptAuthFile) {
      material = readFileSync(c.chatgptAuthFile, 'utf8');
      from = 'RUSTY_PINCH_CODEX_CHATGPT_AUTH_FILE';
    } else if (c.chatgptAuthJsonB64) {
      material = Buffer.from(c.chatgptAuthJsonB64, 'base64').toString('utf8');
      from = 'RUSTY_PINCH_CODEX_CHATGPT_AUTH_JSON_B64';
    } else return { ok: false, message: null };
    const parsed: unknown = JSON.parse(material);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('expected a JSON object (a Codex auth.json)');
  } catch (err) {
    return { ok: false, message: `ChatGPT auth material is not readable JSON: ${errorChain(err)}` };
  }
  // The whole file and every token in it are secrets (redacted wherever text leaves the process).
  const tokens = (JSON.parse(material) as { tokens?: unknown }).tokens;
  const tokenValues = tokens && typeof tokens === 'object' ? Object.values(tokens as Record<string, unknown>) : [];
  registerSecrets([material, ...tokenValues.filter((v): v is string => typeof v === 'string' && v.length >= 16)]);
  const fingerprint = createHash('sha256').update(material.trim()).digest('hex');
  const registry = join(c.homeRoot, '.auth-seeds.json');
  const read = readJsonFile(registry, 'codex auth seeds', (v) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {}));
  const seeds: Record<string, string> = read.state === 'ok' ? read.value : {};
  const owner = seeds[fingerprint];
  if (owner && owner !== account.id) {
    // A ChatGPT refresh token is single-use: two homes from one login log each other out.
    return { ok: false, message: `${from} already seeded account '${owner}'; one ChatGPT login cannot serve two accounts (its refresh token is single-use). Log '${account.id}' in on its own: ${loginCommand(account.id)} --device-auth` };
  }
  const home = prepareHome(settings, account);
  writeJsonAtomic(join(home, 'auth.json'), JSON.parse(material), { mode: 0o600 });
  seeds[fingerprint] = account.id;
  writeJsonAtomic(registry, seeds, { mode: 0o600 });
  emitEvent('codex_login', { account_id: account.id, method: 'chatgpt_seed', source: from });
  return { ok: true, message: null };
}

/**
 * The bootstrap for an account whose `login status` failed. Returns ok when it is logged in now.
 * The operator's own home (the default account) is never written: they log in with `codex login`.
 */
export async function autoLogin(settings: Settings, account: CodexAccountConfig, env: Record<string, string>, runner: CodexRunner, hooks: LoginHooks = {}): Promise<{ ok: boolean; message: string | null }> {
  const c = settings.codex;
  // CODEX_API_KEY in the child's environment is a credential exec reads before auth.json.
  if (!ownsHomes(settings)) {
    if (env.CODEX_API_KEY) return { ok: true, message: null };
    return { ok: false, message: `not logged in: the default account uses your own Codex home (${accountHome(settings, account)}); run \`codex login\` (or \`codex login --device-auth\` on a headless host), or set RUSTY_PINCH_CODEX_ACCOUNTS` };
  }
  if (!c.autoLogin || c.autoLoginMode === 'off') return { ok: false, message: 'not logged in (auto-login is off: RUSTY_PINCH_CODEX_AUTO_LOGIN / _MODE)' };
  const key = account.apiKeyEnv || c.autoLoginMode === 'api-key' ? loginKey(settings, account, env) : undefined;
  if (key) {
    const r = await loginWithKey(settings, env, key.key, runner);
    emitEvent('codex_login', { account_id: account.id, method: 'api_key', source: key.from, ok: r.ok });
    return r.ok ? { ok: true, message: null } : { ok: false, message: r.message };
  }
  if (c.autoLoginMode === 'api-key') return { ok: false, message: `not logged in: auto-login mode api-key but ${c.autoLoginApiKeyEnv} is not set` };
  const seeded = seedChatgptAuth(settings, account);
  if (seeded.ok) return { ok: true, message: null };
  if (seeded.message) return seeded;
  if (c.chatgptDeviceAuth && hooks.onDeviceCode) {
    // The operator may take minutes: the login runs in the background (one per home) and the
    // account counts as logged out until it has finished; a later check then finds it logged in.
    const home = accountHome(settings, account);
    if (!pendingDevice.has(home)) {
      const run = deviceLogin(settings, account, env, hooks.onDeviceCode, (stop) => pendingStops.set(home, stop)).finally(() => {
        pendingDevice.delete(home);
        pendingStops.delete(home);
      });
      pendingDevice.set(home, run);
    }
    return { ok: false, message: 'waiting for the ChatGPT device login (its URL and code were shown to the operator)' };
  }
  return { ok: false, message: `not logged in: log in with ChatGPT (${loginCommand(account.id)} --device-auth), or set RUSTY_PINCH_CODEX_CHATGPT_AUTH_FILE` };
}

/** Device logins running in the background, by home (at most one each). */
const pendingDevice = new Map<string, Promise<unknown>>();
const pendingStops = new Map<string, () => void>();

/** Settles when every background device login has ended (tests; serve's stop). */
export async function deviceLoginsSettled(): Promise<void> {
  await Promise.all([...pendingDevice.values()].map((p) => p.catch(() => undefined)));
}

/** Stops background device logins (serve is stopping). */
export function stopDeviceLogins(): void {
  for (const stop of pendingStops.values()) stop();
}

/**
 * `codex login --device-auth`: the CLI prints a URL and a one-time code and polls until the
 * operator approves. The URL and code are handed to `show` as soon as they appear.
 */
export function deviceLogin(settings: Settings, account: CodexAccountConfig, env: Record<string, string>, show: NonNullable<LoginHooks['onDeviceCode']>, onStart?: (stop: () => void) => void): Promise<{ exitCode: number | null; message: string | null }> {
  const timeoutMs = settings.codex.loginTimeoutSecs * 1000;
  return new Promise((resolve) => {
    let text = '';
    let shown = false;
    const child = spawn(settings.codex.cliBin, ['login', '--device-auth'], { env, cwd: settings.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const kill = (): void => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {
        // gone
      }
    };
    const timer = setTimeout(kill, timeoutMs);
    onStart?.(kill);
    const onData = (d: Buffer): void => {
      // eslint-disable-next-line no-control-regex
      text += d.toString('utf8').replace(/\u001b\[[0-9;]*m/g, '');
      if (shown) return;
      const url = /https?:\/\/\S+/.exec(text)?.[0];
      const code = /\b[A-Z0-9]{4,5}-[A-Z0-9]{4,5}\b/.exec(text)?.[0];
      if (url && code) {
        shown = true;
        emitEvent('codex_device_auth', { account_id: account.id, url, code });
        void Promise.resolve(show(account.id, url, code)).catch(() => undefined);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ exitCode: null, message: `failed to execute codex cli command '${settings.codex.cliBin}': ${errorChain(err)}` });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      emitEvent('codex_login', { account_id: account.id, method: 'device_auth', ok: code === 0 });
      resolve({ exitCode: code, message: code === 0 ? null : `codex login --device-auth exited with code ${code ?? -1}: ${redactSecrets(text.trim().slice(-500))}` });
    });
  });
}

export async function loginAccount(settings: Settings, accountId: string, options: { withApiKey: boolean; deviceAuth?: boolean; runner?: CodexRunner; onDeviceCode?: LoginHooks['onDeviceCode'] }): Promise<LoginResult> {
  const codex = settings.codex;
  const account = codex.accounts.find((a) => a.id === accountId);
  if (!account) throw new ValidationError(`unknown codex account '${accountId}' (configured: ${codex.accounts.map((a) => a.id).join(', ')})`, { hint: 'Accounts come from RUSTY_PINCH_CODEX_ACCOUNTS (id|api_key_env|max_requests|model;…).' });
  const home = prepareHome(settings, account);
  if (options.withApiKey) {
    const env = accountEnv(settings, account); // throws when the account's variable is unset
    const key = loginKey(settings, account, env);
    if (!key) throw new ConfigError(`codex account '${account.id}' has no key to log in with`, { hint: `Give it one in RUSTY_PINCH_CODEX_ACCOUNTS (id|API_KEY_VAR|max|model) or set ${codex.autoLoginApiKeyEnv}; or log in without --with-api-key.` });
    const r = await loginWithKey(settings, env, key.key, options.runner ?? runCodexProcess);
    return { status: r.ok ? 'ok' : 'error', account_id: account.id, codex_home: home, exit_code: r.exitCode, message: r.message };
  }
  const env = accountEnv(settings, account);
  if (options.deviceAuth) {
    const show = options.onDeviceCode ?? ((_id: string, url: string, code: string) => void process.stderr.write(`Open ${url} and enter the code ${code} (valid 15 minutes).\n`));
    const r = await deviceLogin(settings, account, env, show);
    return { status: r.exitCode === 0 ? 'ok' : 'error', account_id: account.id, codex_home: home, exit_code: r.exitCode, message: r.message };
  }
  const timeoutMs = Math.max(INTERACTIVE_LOGIN_MIN_MS, codex.timeoutSecs * 1000);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(codex.cliBin, ['login'], { env, stdio: 'inherit', cwd: settings.cwd });
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 1500).unref();
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new ConfigError(`failed to execute codex cli command '${codex.cliBin}'`, { cause: err }));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  return { status: exitCode === 0 ? 'ok' : 'error', account_id: account.id, codex_home: home, exit_code: exitCode, message: exitCode === 0 ? null : `codex login exited with code ${exitCode ?? -1}` };
}

/** True when the home has an auth.json (used by doctor to say which login an account has). */
export function hasAuthFile(settings: Settings, account: CodexAccountConfig): boolean {
  return existsSync(join(accountHome(settings, account), 'auth.json'));
}
