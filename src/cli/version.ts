// The package version for `--version`: package.json's, injected at build time (see
// src/kernel/version.ts; the kernel holds it so doctor and the update gate read the same value).
export { VERSION } from '../kernel/index.js';
