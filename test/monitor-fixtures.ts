// Real long-lived processes for the monitor tests: a real `rusty-pinch repl` (stdin kept
// open), fake targets named like rusty-pinch, and decoys whose command line merely contains it.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, cleanEnv } from './helpers.js';

export interface Spawned {
  child: ChildProcess;
  pid: number;
  kill: () => void;
}

export async function start(cmd: string, args: string[], env: Record<string, string> = cleanEnv('/tmp/rp-monitor-none')): Promise<Spawned> {
  const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    child,
    pid: child.pid!,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** The real CLI in repl mode; stays alive while its stdin is open. */
export function startRepl(dir: string): Promise<Spawned> {
  return start(process.execPath, [CLI, 'repl'], cleanEnv(dir));
}

/** `node -e "…" rusty-pinch-decoy`: mentions the name, is not rusty-pinch. */
export function startDecoy(): Promise<Spawned> {
  return start(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', 'rusty-pinch-decoy', '--referer', 'https://rusty-pinch.local']);
}

/**
 * A script at `<dir>/bin/<name>` that idles (or, with `wrap`, spawns an idle child and prints
 * its pid): a stand-in for a rusty-pinch executable with any subcommand.
 */
export function writeFakeBin(dir: string, name: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const file = join(bin, name);
  // CommonJS on purpose: temp dirs have no package.json.
  writeFileSync(
    file,
    `#!/usr/bin/env node
if (process.argv[2] === 'wrap') {
  const { spawn } = require('node:child_process');
  const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  process.stdout.write(String(c.pid) + '\\n');
}
setTimeout(() => {}, 30000);
`,
  );
  chmodSync(file, 0o755);
  return file;
}
