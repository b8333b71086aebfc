// Skills run in worker threads: a guest stuck inside one long native operation (a huge
// `repeat`/`join` loop polls the interrupt handler only every 10,000 ops) cannot block the main
// thread, and a watchdog terminates a worker that overruns a run's deadline. Host functions
// (HTTP, logging) stay in the main thread: the worker asks for them by message.
// This file is both the pool (main thread) and the worker's entry (it loads itself).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { HttpResult } from '../net/index.js';
import type { SandboxHost, SandboxLimits, SkillErrorKind } from './sandbox.js';
import { AppError } from '../kernel/index.js';

type ToWorker =
  | { t: 'run'; id: number; source: string; filename: string; args: string; limits: SandboxLimits; constants?: Record<string, string> }
  | { t: 'compile'; id: number; source: string; filename: string }
  | { t: 'http-result'; id: number; callId: number; ok: boolean; result?: HttpResult; message?: string };
type FromWorker =
  | { t: 'log'; id: number; message: string }
  | { t: 'http'; id: number; callId: number; method: 'GET' | 'POST'; url: string; body?: string }
  | { t: 'done'; id: number; ok: boolean; output?: string; kind?: SkillErrorKind; message?: string }
  | { t: 'started'; id: number }
  | { t: 'ready'; id?: undefined };

const WORKER_FLAG = 'rustyPinchSkillWorker';
/** A worker that has not loaded its engine by then is replaced (its runs fail as 'engine'). */
const STARTUP_MS = 30_000;

export interface PoolOptions {
  /** Most worker threads (runs are spread over them; each interleaves many async runs). */
  size: number;
  /** Extra time past a run's deadline before its worker is terminated. */
  graceMs: number;
  /** WebAssembly memory cap for each worker's QuickJS module. */
  maxModuleBytes: number;
}

export interface PoolRunInput {
  source: string;
  filename: string;
  args: string;
  limits: SandboxLimits;
  constants?: Record<string, string>;
  host: SandboxHost;
}

interface PendingRun {
  id: number;
  slot: Slot;
  host?: SandboxHost;
  abort: AbortController;
  /**
   * Armed when the worker begins the run: neither engine start-up nor waiting behind another
   * run in the same worker is this skill's time. Until then a long fallback guards the queue.
   */
  watchdog: NodeJS.Timeout | undefined;
  timeoutMs: number;
  resolve(v: string): void;
  reject(e: Error): void;
}

interface Slot {
  worker: Worker;
  runs: Map<number, PendingRun>;
  dead: boolean;
  /** The worker has loaded its engine; until then runs wait in `waiting`. */
  ready: boolean;
  waiting: Array<() => void>;
  startup: NodeJS.Timeout | undefined;
}

/** Error from a skill run; `kind` tells compile, runtime, budget and engine failures apart. */
export class SkillError extends AppError {
  constructor(readonly kind: SkillErrorKind, message: string) {
    super(`skill_${kind}`, message);
  }
}

export class SkillWorkerPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  restarts = 0;

  constructor(private readonly options: PoolOptions) {}

  run(input: PoolRunInput): Promise<string> {
    const { host, ...msg } = input;
    return this.dispatch({ t: 'run', id: 0, ...msg }, input.limits.timeoutMs, host);
  }

  /** Compiles without running (dry run); rejects with a 'compile' SkillError. */
  async compile(source: string, filename: string): Promise<void> {
    await this.dispatch({ t: 'compile', id: 0, source, filename }, 5000, undefined);
  }

  /** Terminates every worker (tests, shutdown). */
  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => this.kill(s, 'pool closed')));
  }

  get workerCount(): number {
    return this.slots.length;
  }

  private dispatch(msg: ToWorker & { id: number }, timeoutMs: number, host: SandboxHost | undefined): Promise<string> {
    const slot = this.pick();
    const id = this.nextId++;
    return new Promise<string>((resolve, reject) => {
      const run: PendingRun = { id, slot, host, abort: new AbortController(), timeoutMs, resolve, reject, watchdog: undefined };
      const start = (): void => {
        if (!slot.runs.has(id) || slot.dead) return;
        run.watchdog = setTimeout(() => this.overrun(run), STARTUP_MS + timeoutMs + this.options.graceMs);
        slot.worker.postMessage({ ...msg, id });
      };
      slot.runs.set(id, run);
      slot.worker.ref();
      if (slot.ready) start();
      else slot.waiting.push(start);
    });
  }

  private pick(): Slot {
    const live = this.slots.filter((s) => !s.dead);
    const best = live.sort((a, b) => a.runs.size - b.runs.size)[0];
    if (best && (best.runs.size === 0 || live.length >= this.options.size)) return best;
    return this.spawn();
  }

  private spawn(): Slot {
    const url = import.meta.url;
    const data = { [WORKER_FLAG]: true, maxModuleBytes: this.options.maxModuleBytes };
    // Under tsx (tests, benches) the worker must register the TypeScript loader first.
    const worker = url.endsWith('.ts')
      ? new Worker(`import('tsx/esm/api').then((m) => m.register()).then(() => import(${JSON.stringify(url)}))`, { eval: true, workerData: data })
      : new Worker(new URL(url), { workerData: data });
    const slot: Slot = { worker, runs: new Map(), dead: false, ready: false, waiting: [], startup: undefined };
    slot.startup = setTimeout(() => void this.kill(slot, `skill engine worker did not start within ${STARTUP_MS / 1000} s`), STARTUP_MS);
    slot.startup.unref();
    worker.on('message', (m: FromWorker) => this.onMessage(slot, m));
    worker.on('error', (err) => this.fail(slot, `skill engine worker failed: ${err.message}`));
    worker.on('exit', (code) => this.fail(slot, `skill engine worker exited (code ${code})`));
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    if (m.t === 'ready') {
      slot.ready = true;
      clearTimeout(slot.startup);
      for (const start of slot.waiting.splice(0)) start();
      return;
    }
    const run = slot.runs.get(m.id);
    if (!run) return;
    if (m.t === 'started') {
      clearTimeout(run.watchdog);
      run.watchdog = setTimeout(() => this.overrun(run), run.timeoutMs + this.options.graceMs);
    } else if (m.t === 'log') run.host?.log(m.message);
    else if (m.t === 'http') {
      const reply = (r: Omit<Extract<ToWorker, { t: 'http-result' }>, 't' | 'id' | 'callId'>) => {
        if (slot.runs.has(m.id) && !slot.dead) slot.worker.postMessage({ t: 'http-result', id: m.id, callId: m.callId, ...r });
      };
      if (!run.host) return reply({ ok: false, message: 'http is not available here' });
      run.host.http(m.method, m.url, m.body, run.abort.signal).then(
        (result) => reply({ ok: true, result }),
        (err: unknown) => reply({ ok: false, message: (err as Error)?.message ?? String(err) }),
      );
    } else if (m.t === 'done') {
      this.settle(slot, run);
      if (m.ok) run.resolve(m.output ?? '');
      else run.reject(new SkillError(m.kind ?? 'runtime', m.message ?? 'skill failed'));
    }
  }

  private settle(slot: Slot, run: PendingRun): void {
    if (run.watchdog) clearTimeout(run.watchdog);
    run.abort.abort();
    slot.runs.delete(run.id);
    if (slot.runs.size === 0 && !slot.dead) slot.worker.unref();
  }

  /** A run outlived its deadline: its worker is stuck in guest code, so it is replaced. */
  private overrun(run: PendingRun): void {
    const { slot } = run;
    this.settle(slot, run);
    run.reject(new SkillError('budget', `skill exceeded the wall-time budget (${run.timeoutMs} ms); its engine was stopped`));
    this.restarts++;
    void this.kill(slot, 'skill engine was restarted because another skill run overran its wall-time budget');
  }

  private fail(slot: Slot, message: string): void {
    slot.dead = true;
    clearTimeout(slot.startup);
    slot.waiting.length = 0;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    for (const run of [...slot.runs.values()]) {
      this.settle(slot, run);
      run.reject(new SkillError('engine', message));
    }
  }

  private async kill(slot: Slot, message: string): Promise<void> {
    this.fail(slot, message);
    await slot.worker.terminate().catch(() => undefined);
  }
}

// ---- worker side ----------------------------------------------------------------------------

async function serveWorker(): Promise<void> {
  const port = parentPort!;
  const { configureSkillEngine } = await import('./engine.js');
  const { runInSandbox, compileInSandbox, SkillRunError } = await import('./sandbox.js');
  configureSkillEngine({ maxModuleBytes: (workerData as { maxModuleBytes: number }).maxModuleBytes });
  const calls = new Map<string, { resolve(r: HttpResult): void; reject(e: Error): void }>();
  let nextCall = 1;
  const done = (id: number, p: Promise<string | void>) =>
    p.then(
      (output) => port.postMessage({ t: 'done', id, ok: true, output: output ?? '' }),
      (err: unknown) => port.postMessage({ t: 'done', id, ok: false, kind: err instanceof SkillRunError ? err.kind : 'engine', message: (err as Error)?.message ?? String(err) }),
    );
  port.on('message', (m: ToWorker) => {
    if (m.t === 'http-result') {
      const key = `${m.id}:${m.callId}`;
      const c = calls.get(key);
      calls.delete(key);
      if (m.ok) c?.resolve(m.result!);
      else c?.reject(new Error(m.message ?? 'http failed'));
    } else if (m.t === 'compile') {
      port.postMessage({ t: 'started', id: m.id });
      done(m.id, compileInSandbox(m.source, m.filename));
    } else if (m.t === 'run') {
      port.postMessage({ t: 'started', id: m.id });
      const host: SandboxHost = {
        log: (message) => port.postMessage({ t: 'log', id: m.id, message }),
        now: () => new Date().toISOString().replace('Z', '+00:00'),
        http: (method, url, body, signal) =>
          new Promise<HttpResult>((resolve, reject) => {
            const callId = nextCall++;
            const key = `${m.id}:${callId}`;
            calls.set(key, { resolve, reject });
            signal.addEventListener('abort', () => calls.delete(key), { once: true });
            port.postMessage({ t: 'http', id: m.id, callId, method, url, body });
          }),
      };
      done(m.id, runInSandbox({ source: m.source, filename: m.filename, args: m.args, limits: m.limits, constants: m.constants, host }));
    }
  });
  port.postMessage({ t: 'ready' });
}

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[WORKER_FLAG] === true) void serveWorker();
