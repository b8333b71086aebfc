// Small host probes used by doctor: find an executable on PATH, run `<bin> --version` with a
// deadline, and check that a directory exists (or can be created) and is writable.
import { accessSync, constants, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';

/** Absolute path of `bin` (searched on PATH when it has no slash), or undefined. */
export function findExecutable(bin: string, pathEnv = process.env.PATH ?? ''): string | undefined {
  const candidates = bin.includes('/') ? [resolve(bin)] : pathEnv.split(delimiter).filter(Boolean).map((d) => join(d, bin));
  for (const c of candidates) {
    try {
      if (statSync(c).isFile()) {
        accessSync(c, constants.X_OK);
        return c;
      }
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** Runs `file args…` without a shell; resolves with the first output line or a failure reason. */
export function runProbe(file: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<{ ok: boolean; output: string; text: string }> {
  return new Promise((resolveResult) => {
    let out = '';
    let settled = false;
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env, detached: true });
    const finish = (ok: boolean, output: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolveResult({ ok, output: output.trim().split('\n')[0]?.slice(0, 200) ?? '', text: out.slice(0, 8192) });
    };
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      finish(false, `no answer within ${timeoutMs} ms`);
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (err) => finish(false, err.message));
    child.on('close', (code) => finish(code === 0, code === 0 ? out : `exit code ${code}: ${out}`));
  });
}

/** Whether `dir` exists and is writable, or could be created (nearest existing parent writable). */
export function checkWritableDir(dir: string): { ok: boolean; exists: boolean; reason?: string } {
  let cur = isAbsolute(dir) ? dir : resolve(dir);
  let exists = true;
  for (;;) {
    try {
      const st = statSync(cur);
      if (!st.isDirectory()) return { ok: false, exists, reason: `${cur} exists and is not a directory` };
      accessSync(cur, constants.W_OK);
      return { ok: true, exists };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        exists = false;
        const parent = dirname(cur);
        if (parent === cur) return { ok: false, exists, reason: 'no existing parent directory' };
        cur = parent;
        continue;
      }
      return { ok: false, exists, reason: `${cur} is not writable (${code})` };
    }
  }
}
