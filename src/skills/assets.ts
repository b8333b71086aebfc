// Starter skills: copied from the installed package's assets/skills into the workspace when
// missing, never overwriting a workspace file. The package root is found from this module's
// location, not the current directory (the original's weakness).
import { constants, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emitEvent } from '../observe/index.js';
import { errorChain } from '../kernel/index.js';
import { SKILL_EXT, isValidSkillName } from './names.js';

const PACKAGE_NAME = 'rusty-pinch';

/** Walks up from `start` to the directory whose package.json names this package. */
export function findPackageRoot(start = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = start;
  for (let i = 0; i < 12; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        // unreadable package.json: keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
  return undefined;
}

export function defaultAssetsDir(): string | undefined {
  const root = findPackageRoot();
  return root ? join(root, 'assets', 'skills') : undefined;
}

/** Copies missing starter skills; returns how many were copied. Never throws. */
export function syncSkillAssets(assetsDir: string | undefined, skillsDir: string): number {
  if (!assetsDir) return 0;
  let copied = 0;
  const skipped: string[] = [];
  try {
    if (!existsSync(assetsDir)) return 0;
    if (!statSync(assetsDir).isDirectory()) throw new Error(`assets path is not a directory: ${assetsDir}`);
    mkdirSync(skillsDir, { recursive: true });
    for (const file of readdirSync(assetsDir).sort()) {
      if (!file.endsWith(SKILL_EXT)) continue;
      const name = file.slice(0, -SKILL_EXT.length);
      if (!isValidSkillName(name)) {
        skipped.push(file); // one bad asset name does not abort the sync
        continue;
      }
      const src = join(assetsDir, file);
      if (!statSync(src).isFile()) continue;
      try {
        copyFileSync(src, join(skillsDir, file), constants.COPYFILE_EXCL);
        copied++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    if (copied > 0 || skipped.length > 0) emitEvent('skills_assets_synced', { copied, skipped, assets_dir: assetsDir, skills_dir: skillsDir });
  } catch (err) {
    emitEvent('skills_assets_sync_error', { message: errorChain(err), assets_dir: assetsDir, skills_dir: skillsDir });
  }
  return copied;
}
