// The running version, from one source: package.json. scripts/build.mjs injects it into dist/
// at build time (esbuild `define`), so a built tree carries its own version even when copied
// elsewhere; source runs (tests under tsx) read the checkout's package.json instead.
import { readFileSync } from 'node:fs';

declare const __RUSTY_PINCH_VERSION__: string | undefined;

function versionFromPackageJson(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0-unknown';
  } catch {
    return '0.0.0-unknown';
  }
}

export const VERSION: string = typeof __RUSTY_PINCH_VERSION__ === 'string' ? __RUSTY_PINCH_VERSION__ : versionFromPackageJson();
