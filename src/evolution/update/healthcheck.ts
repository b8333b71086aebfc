// Runs the staged version once (`--healthcheck-args`, default `doctor`) in its own process
// group with a deadline. Unlike the original: the pipes are drained while it runs (no false
// timeouts on chatty output), the whole group is SIGKILLed on timeout (grandchildren cannot hold
// the pipes open), and a spawn failure is a failed check (so apply rolls back), not a crash.
import { spawn } from 'node:child_process';

export interface HealthResult {
  ok: boolean;
  timedOut: boolean;
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

const KEEP = 64 * 1024;

export function summarize(text: string): string {
  const t = text.trim();
  return t.length > 500 ? `${t.slice(0, 500)}...` : t;
}

export function runHealthCheck(command: string, args: string[], timeoutSecs: number, env: NodeJS.ProcessEnv): Promise<HealthResult> {
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    let timedOut = false;
    let settled = false;
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
    const keep = (prev: string, chunk: Buffer): string => (prev.length >= KEEP ? prev : prev + chunk.toString('utf8').slice(0, KEEP - prev.length));
    child.stdout.on('data', (c: Buffer) => (out = keep(out, c)));
    child.stderr.on('data', (c: Buffer) => (err = keep(err, c)));
    const killGroup = (): void => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, Math.max(1, timeoutSecs) * 1000);
    const finish = (r: HealthResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      killGroup(); // nothing of the check may outlive it
      resolve(r);
    };
    child.on('error', (e) => finish({ ok: false, timedOut: false, exitCode: null, stdout: '', stderr: summarize(`failed running health check command '${command}' with args [${args.join(', ')}]: ${e.message}`) }));
    // 'exit', not 'close': a grandchild holding the pipes must not stretch the wait.
    child.on('exit', (code) => {
      const stderr = timedOut ? `health check timed out after ${Math.max(1, timeoutSecs)} seconds and process was killed${err.trim() ? ` | ${err.trim()}` : ''}` : err;
      setImmediate(() => finish({ ok: !timedOut && code === 0, timedOut, exitCode: timedOut ? null : code, stdout: summarize(out), stderr: summarize(stderr) }));
    });
  });
}
