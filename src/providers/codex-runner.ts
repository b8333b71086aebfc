// Runs the Codex CLI once: argv without the prompt (it goes on stdin), a minimal child env,
// its own process group killed as a whole on timeout or abort, capped output, and the
// reply read from plain or `--json` (JSONL) output. Shared by the provider and the account pool.
import { spawn, type ChildProcess } from 'node:child_process';
import { AppError } from '../kernel/index.js';
import { CODEX_INSTALL_HINT, type CodexSettings } from '../config/index.js';
import { parseCodexOutput } from './codex-output.js';
import { classifyCodexRun } from './codex-failure.js';

export { parseCodexOutput, stripControl } from './codex-output.js';

export interface CodexRunOptions {
  bin: string;
  args: string[];
  /** Written to the child's stdin, which is then closed; undefined → stdin is /dev/null. */
  stdin?: string;
  env: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  cwd?: string;
}

export interface CodexRunResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  latencyMs: number;
}

/** Output kept per stream; the rest is dropped (stdout keeps its head, stderr its tail). */
export const MAX_STDOUT_BYTES = 4 * 1024 * 1024;
export const MAX_STDERR_BYTES = 256 * 1024;
/** Time between SIGTERM and SIGKILL for the child's process group. */
export const KILL_GRACE_MS = 1500;
/** After the child exits, how long to wait for its pipes (held by a stray grandchild) to close. */
const PIPE_DRAIN_MS = 2000;

/** Spawns the CLI (no shell, own process group). Rejects only when it cannot be started. */
export function runCodexProcess(opts: CodexRunOptions): Promise<CodexRunResult> {
  const started = performance.now();
  const latency = (): number => Math.round(performance.now() - started);
  if (opts.signal?.aborted) return Promise.resolve({ exitCode: null, signal: null, stdout: '', stderr: '', timedOut: false, latencyMs: 0 });

  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(opts.bin, opts.args, {
        env: opts.env,
        cwd: opts.cwd,
        detached: true,
        shell: false,
        stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
    } catch (err) {
      reject(spawnError(opts.bin, err));
      return;
    }
    const out = new Capture(MAX_STDOUT_BYTES, 'head');
    const errOut = new Capture(MAX_STDERR_BYTES, 'tail');
    let spawned = false;
    let settled = false;
    let timedOut = false;
    let exit: { code: number | null; signal: string | null } | undefined;
    const timers: NodeJS.Timeout[] = [];

    const killGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        try {
          child.kill(sig);
        } catch {
          // already gone
        }
      }
    };
    const stop = (): void => {
      if (exit) return;
      killGroup('SIGTERM');
      const t = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
      t.unref();
      timers.push(t);
    };
    const finish = (): void => {
      if (settled || !exit) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      opts.signal?.removeEventListener('abort', stop);
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({ exitCode: exit.code, signal: exit.signal, stdout: out.text(), stderr: errOut.text(), timedOut, latencyMs: latency() });
    };

    child.on('error', (err) => {
      if (!spawned && !settled) {
        settled = true;
        for (const t of timers) clearTimeout(t);
        opts.signal?.removeEventListener('abort', stop);
        reject(spawnError(opts.bin, err));
      }
    });
    child.on('spawn', () => {
      spawned = true;
      if (opts.timeoutMs > 0) {
        timers.push(
          setTimeout(() => {
            timedOut = true;
            stop();
          }, opts.timeoutMs),
        );
      }
      opts.signal?.addEventListener('abort', stop, { once: true });
      if (child.stdin) {
        child.stdin.on('error', () => {}); // EPIPE when the child does not read its input
        child.stdin.end(opts.stdin ?? '');
      }
    });
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => errOut.push(d));
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Helpers the CLI left behind in its group do not outlive it.
      killGroup('SIGTERM');
      const t = setTimeout(finish, PIPE_DRAIN_MS);
      t.unref();
      timers.push(t);
    });
    child.on('close', finish);
  });
}

/** A bounded byte buffer keeping either the first or the last `max` bytes. */
class Capture {
  private chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;
  constructor(private readonly max: number, private readonly keep: 'head' | 'tail') {}

  push(d: Buffer): void {
    if (this.keep === 'head') {
      if (this.size >= this.max) return void (this.truncated = true);
      const part = d.subarray(0, this.max - this.size);
      if (part.length < d.length) this.truncated = true;
      this.chunks.push(part);
      this.size += part.length;
      return;
    }
    this.chunks.push(d);
    this.size += d.length;
    if (this.size > this.max * 2) this.compact();
  }

  private compact(): void {
    const all = Buffer.concat(this.chunks);
    this.chunks = [all.subarray(all.length - this.max)];
    this.size = this.max;
    this.truncated = true;
  }

  text(): string {
    if (this.size > this.max) this.compact();
    const s = Buffer.concat(this.chunks).toString('utf8');
    if (!this.truncated) return s;
    return this.keep === 'head' ? `${s}\n[output truncated]` : `[output truncated]\n${s}`;
  }
}

function spawnError(bin: string, err: unknown): AppError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const why = code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'permission denied' : err instanceof Error ? err.message : String(err);
  return new AppError('codex_spawn', `failed to execute codex cli command '${bin}': ${why}${code ? ` (${code})` : ''}`, { hint: CODEX_INSTALL_HINT, cause: err });
}

/**
 * argv for `codex exec`: `<cli_args…> [<model_flag> <model>]`, then the prompt. In `stdin`
 * mode the prompt travels on stdin and argv ends with `-`; in `arg` mode it is the last
 * argument (`[<prompt_flag>] <prompt>`, as the original), which exposes it in /proc.
 * An empty model flag passes the model as a bare positional, as the original did.
 */
export function buildCodexExecArgv(codex: CodexSettings, model: string | undefined, prompt: string, opts: { scratchDir?: string; plain?: boolean } = {}): { args: string[]; stdin: string | undefined } {
  const text = prompt.trim();
  if (!text) throw new AppError('codex', 'codex prompt is empty');
  // An older CLI without `--json` gets the same argv minus the flag (plain text out).
  const args = codex.cliArgs.filter((a) => !(opts.plain && a === '--json'));
  // Our default argv works in an empty scratch dir: the agent sees no files of ours.
  if (!codex.cliArgsCustom && opts.scratchDir && !args.includes('-C') && !args.includes('--cd')) args.push('-C', opts.scratchDir);
  const m = model?.trim();
  if (m) {
    if (codex.modelFlag) args.push(codex.modelFlag, m);
    else args.push(m);
  }
  if (codex.promptMode === 'arg') {
    if (codex.promptFlag) args.push(codex.promptFlag);
    args.push(text);
    return { args, stdin: undefined };
  }
  args.push('-');
  return { args, stdin: text };
}

const CHILD_ENV_NAMES = new Set(['PATH', 'HOME', 'USER', 'LANG', 'TZ', 'TMPDIR', 'TERM', 'NO_COLOR']);

/**
 * The child's environment: only PATH, HOME, USER, LANG, LC_*, TZ, TMPDIR, TERM, NO_COLOR from
 * the parent, plus `extra` (CODEX_HOME, the account's own key). No other secret is inherited.
 */
export function codexChildEnv(parent: Record<string, string | undefined>, extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(parent)) {
    if (v === undefined) continue;
    if (CHILD_ENV_NAMES.has(k) || k.startsWith('LC_')) env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * The reply of a finished run, or the error it stands for (classified by the one classifier:
 * timeout, abort, auth, quota, rate limit, network, other). Error code `codex_<kind>`.
 */
export function codexRunOutput(res: CodexRunResult, timeoutMs: number, aborted = false): string {
  const failure = classifyCodexRun(res, { timeoutMs, aborted });
  if (failure) throw new AppError(`codex_${failure.kind}`, failure.message);
  return parseCodexOutput(res.stdout, res.stderr);
}
