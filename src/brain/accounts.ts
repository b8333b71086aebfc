// One Codex account = one CODEX_HOME (where its login lives) and optionally its own key variable.
// With no RUSTY_PINCH_CODEX_ACCOUNTS the one `default` account is the operator's own Codex home
// (CODEX_HOME, else ~/.codex), where `codex login` put the credentials. Configured accounts get a
// private home each under the home root, kept in a file (not a keyring) so a service can use it.
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../kernel/index.js';
import { codexChildEnv } from '../providers/index.js';
import type { CodexAccountConfig, Settings } from '../config/index.js';
import { ensurePrivateDir } from './state.js';

/** The account's CODEX_HOME; ids are checked to be safe file names when settings are read. */
export function accountHome(settings: Settings, account: CodexAccountConfig): string {
  return ownsHomes(settings) ? join(settings.codex.homeRoot, account.id) : settings.codex.operatorHome;
}

/** True when accounts have homes of our own (configured accounts), false for the operator's home. */
export function ownsHomes(settings: Settings): boolean {
  return settings.codex.accountsConfigured;
}

/** The error the original gave when an account's key variable is unset or blank. */
export class MissingKeyError extends AppError {
  constructor(name: string) {
    super('codex', `required env '${name}' is missing for codex account`, { hint: `Set ${name}, or remove it from RUSTY_PINCH_CODEX_ACCOUNTS.` });
  }
}

/** The account's key (trimmed), or undefined when it names none. Throws MissingKeyError when blank. */
export function accountKey(settings: Settings, account: CodexAccountConfig): string | undefined {
  if (!account.apiKeyEnv) return undefined;
  const value = settings.env[account.apiKeyEnv]?.trim();
  if (!value) throw new MissingKeyError(account.apiKeyEnv);
  return value;
}

/**
 * Makes sure a home exists. Our own homes are private (0700) and keep the login in
 * `auth.json` (`cli_auth_credentials_store = "file"`); the operator's home is theirs: untouched.
 */
export function prepareHome(settings: Settings, account: CodexAccountConfig): string {
  const home = accountHome(settings, account);
  if (!ownsHomes(settings)) return home;
  ensurePrivateDir(home);
  const config = join(home, 'config.toml');
  const text = existsSync(config) ? readFileSync(config, 'utf8') : '';
  if (!/^\s*cli_auth_credentials_store\s*=/m.test(text)) {
    appendFileSync(config, `${text && !text.endsWith('\n') ? '\n' : ''}# Written by rusty-pinch: keep this account's login in auth.json (a service has no keyring).\ncli_auth_credentials_store = "file"\n`, { mode: 0o600 });
  }
  return home;
}

/**
 * Environment for a child run on behalf of `account`: PATH/HOME/locale from the parent, its
 * CODEX_HOME, and its key both under its own name and as CODEX_API_KEY (the variable `codex
 * exec` reads before auth.json). Keys travel only here, never on argv. Other accounts' keys and
 * any other secret of the parent are not passed.
 */
export function accountEnv(settings: Settings, account: CodexAccountConfig): Record<string, string> {
  const home = prepareHome(settings, account);
  const extra: Record<string, string> = { CODEX_HOME: home };
  const key = accountKey(settings, account);
  if (key !== undefined && account.apiKeyEnv) {
    extra[account.apiKeyEnv] = key;
    extra.CODEX_API_KEY = key;
  }
  return codexChildEnv(settings.env, extra);
}

/**
 * Identifies the login an account uses now (its auth.json and key): a 401 is pinned to it, so
 * the account becomes healthy again only once someone logged it in anew. Only a hash is kept.
 */
export function loginFingerprint(settings: Settings, account: CodexAccountConfig): string {
  let auth = '';
  try {
    auth = readFileSync(join(accountHome(settings, account), 'auth.json'), 'utf8');
  } catch {
    auth = '';
  }
  let key = '';
  try {
    key = accountKey(settings, account) ?? '';
  } catch {
    key = '';
  }
  return createHash('sha256').update(auth).update('\0').update(key).digest('hex').slice(0, 32);
}

/** The command that logs an account in again (doctor, status and errors name it). */
export function loginCommand(accountId: string): string {
  return `rusty-pinch codex login --account ${accountId}`;
}
