// One Codex account = its own CODEX_HOME (so each is logged in on its own) and its own key
// variable. A child gets the minimal environment plus exactly these, nothing else secret.
import { join } from 'node:path';
import { AppError } from '../kernel/index.js';
import { codexChildEnv } from '../providers/index.js';
import type { CodexAccountConfig, Settings } from '../config/index.js';
import { ensurePrivateDir } from './state.js';

/** `<home root>/<id>`; ids are checked to be safe file names when settings are read. */
export function accountHome(settings: Settings, account: CodexAccountConfig): string {
  return join(settings.codex.homeRoot, account.id);
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
 * Environment for a child run on behalf of `account`: PATH/HOME/locale from the parent, its own
 * CODEX_HOME (created 0700), and its own key under its own name. Other accounts' keys and any
 * other secret of the parent are not passed.
 */
export function accountEnv(settings: Settings, account: CodexAccountConfig): Record<string, string> {
  const home = accountHome(settings, account);
  ensurePrivateDir(home);
  const extra: Record<string, string> = { CODEX_HOME: home };
  const key = accountKey(settings, account);
  if (key !== undefined && account.apiKeyEnv) extra[account.apiKeyEnv] = key;
  return codexChildEnv(settings.env, extra);
}
