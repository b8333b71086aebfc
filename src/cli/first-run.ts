// The first command that creates ./data and ./workspace says so, once, on stderr: a new user
// learns where their sessions and skills live (and how to move them) instead of finding two
// folders later. The next run finds them and stays quiet.
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import type { Settings } from '../config/index.js';
import { emitEvent, logLevel } from '../observe/index.js';

export interface Dirs {
  dataDir?: string;
  workspace?: string;
}

/** The directories that do not exist yet (checked before the command creates them). */
export function missingDirs(s: Pick<Settings, 'dataDir' | 'workspace'>): Dirs {
  return { ...(existsSync(s.dataDir) ? {} : { dataDir: s.dataDir }), ...(existsSync(s.workspace) ? {} : { workspace: s.workspace }) };
}

function shown(dir: string, cwd: string): string {
  const rel = relative(cwd, dir);
  return rel && !rel.startsWith('..') ? `./${rel} (${dir})` : dir;
}

/** Tells the user which of `before` now exist. A terminal gets a sentence, a pipe an event line. */
export function firstRunNotice(before: Dirs, s: Pick<Settings, 'dataDir' | 'workspace' | 'cwd'>): void {
  const made = [before.dataDir && existsSync(before.dataDir) ? ['data', before.dataDir, 'RUSTY_PINCH_DATA_DIR'] : undefined, before.workspace && existsSync(before.workspace) ? ['workspace', before.workspace, 'RUSTY_PINCH_WORKSPACE'] : undefined].filter((x): x is string[] => x !== undefined);
  if (made.length === 0) return;
  const what = made.map(([name, dir]) => `${name} in ${shown(dir!, s.cwd)}`).join(' and ');
  const vars = made.map(([, , v]) => v).join(' / ');
  const message = `first run: created ${what}; set ${vars} to keep them elsewhere`;
  if (process.stderr.isTTY) {
    // An info line like the events: --quiet (or a lower RUSTY_PINCH_LOG_LEVEL) silences it.
    if (logLevel() === 'info' || logLevel() === 'debug') process.stderr.write(`note: ${message}\n`);
  }
  else emitEvent('first_run', { message, ...(made.some(([n]) => n === 'data') ? { data_dir: s.dataDir } : {}), ...(made.some(([n]) => n === 'workspace') ? { workspace: s.workspace } : {}) });
}
