// The launcher's first step (dist/launcher.js, bundled on its own): find the workspace the way
// the app does (RUSTY_PINCH_WORKSPACE from the process env or the .env file rules) and look for an
// active-slot marker. No marker: the installed build, at the cost of two failed stat calls.
// A marker: load the slot check (dist/launch-verify.js, with node:crypto) and let it decide.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadEnv } from '../config/index.js';

import type { LaunchChoice } from './launch-choice.js';

export type { LaunchChoice };

export async function chooseEntry(installedCli: string, argv: string[] = process.argv, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<LaunchChoice> {
  let merged: Record<string, string | undefined>;
  try {
    merged = loadEnv(env, cwd).env;
  } catch {
    return { entry: installedCli }; // the app reports a bad .env itself
  }
  const workspace = resolve(cwd, merged.RUSTY_PINCH_WORKSPACE?.trim() || './workspace');
  const updates = join(workspace, 'updates');
  if (!existsSync(join(updates, 'active-slot')) && !existsSync(join(updates, 'active-slot.sig'))) return { entry: installedCli };
  const { verifyAndChoose } = await import('./launch-verify.js');
  return verifyAndChoose(installedCli, argv, env, merged, workspace);
}
