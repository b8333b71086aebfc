// node:crypto, loaded on first use. Loading it costs ~3 ms of CPU (more on a Pi), and the launcher
// (bin/rusty-pinch → dist/launch-verify.js) only needs it when the marker has a sidecar to check.
import { createRequire } from 'node:module';

let loaded: typeof import('node:crypto') | undefined;

export function nodeCrypto(): typeof import('node:crypto') {
  return (loaded ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto'));
}
