// One skill run inside QuickJS: a fresh runtime+context on the shared WASM module, only
// ECMAScript built-ins plus the host functions, and per-run budgets (memory, stack, wall time
// incl. awaited host calls, output size, host calls). A run never throws anything but SkillRunError.
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from 'quickjs-emscripten-core';
import { discardSkillEngine, getSkillEngine, isEngineFault } from './engine.js';
import { describeGuestError, type GuestErrorInfo } from './guest-errors.js';
import { installHost, type RunState } from './host-bindings.js';
import { AppError } from '../kernel/index.js';

export type { SandboxLimits, SandboxHost, SandboxInput } from './sandbox-types.js';
import type { SandboxInput, SandboxLimits } from './sandbox-types.js';

export type SkillErrorKind = 'compile' | 'runtime' | 'budget' | 'engine';

export class SkillRunError extends AppError {
  constructor(readonly kind: SkillErrorKind, message: string) {
    super(`skill_${kind}`, message);
  }
}

const MEMORY_SAMPLE_MS = 10;

/** Bytes in use by one runtime, as JS_ComputeMemoryUsage walks them. */
export function memoryUsed(rt: QuickJSRuntime): number {
  const m = /memory used\s+\d+\s+(\d+)/.exec(rt.dumpMemoryUsage());
  return m ? Number(m[1]) : 0;
}

function memoryMessage(limits: { memoryBytes: number }): string {
  return `skill exceeded the memory budget (${Math.round(limits.memoryBytes / 1048576)} MiB)`;
}

// Built before the skill's code runs, so a skill that replaces JSON/String only fools itself.
const STRINGIFY = `(() => { const S = String, J = JSON.stringify; return (v) => {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') { const j = J(v); if (typeof j === 'string') return j; }
  return S(v); }; })()`;

/** Compiles without running anything; throws SkillRunError('compile') with line/column. */
export async function compileInSandbox(source: string, filename: string): Promise<void> {
  const mod = await getSkillEngine();
  await withRuntime(mod, { memoryBytes: 32 << 20, stackBytes: 256 << 10 }, () => false, (ctx) => {
    const r = ctx.evalCode(source, filename, { type: 'global', compileOnly: true });
    if (r.error) {
      const info = describeGuestError(ctx, r.error);
      r.error.dispose();
      throw new SkillRunError('compile', formatCompileError(info));
    }
    r.value.dispose();
  });
}

export async function runInSandbox(input: SandboxInput): Promise<string> {
  const mod = await getSkillEngine();
  const { limits } = input;
  const abort = new AbortController();
  const state: RunState = {
    deadline: Date.now() + limits.timeoutMs,
    budget: undefined,
    finished: false,
    httpCalls: 0,
    logCalls: 0,
    inflight: 0,
    deferreds: new Set(),
    abort,
    pump: () => undefined,
  };
  const onCancel = () => (state.budget ??= 'skill run cancelled');
  input.signal?.addEventListener('abort', onCancel, { once: true });
  if (input.signal?.aborted) onCancel();
  try {
    let lastMemCheck = 0;
    const interrupt = (rt: QuickJSRuntime): boolean => {
      if (state.budget !== undefined) return true;
      const now = Date.now();
      if (now > state.deadline) {
        // Interrupting a promise job can surface as odd guest errors or a dropped job, so the
        // budget is recorded first and every later failure of this run reports it.
        state.budget = timeoutMessage(limits);
        return true;
      }
      // QuickJS's own accounting undercounts in this build, so sample the real usage.
      if (now - lastMemCheck >= MEMORY_SAMPLE_MS) {
        lastMemCheck = now;
        if (memoryUsed(rt) > limits.memoryBytes) {
          state.budget = memoryMessage(limits);
          return true;
        }
      }
      return false;
    };
    return await withRuntime(mod, limits, interrupt, (ctx, rt) => execute(ctx, rt, input, state));
  } finally {
    state.finished = true;
    abort.abort();
    input.signal?.removeEventListener('abort', onCancel);
  }
}


/** Creates runtime+context, runs `fn`, always disposes; discards the module on engine faults. */
async function withRuntime<T>(mod: QuickJSWASMModule, limits: { memoryBytes: number; stackBytes: number }, interrupt: (rt: QuickJSRuntime) => boolean, fn: (ctx: QuickJSContext, rt: QuickJSRuntime) => T | Promise<T>): Promise<T> {
  let rt: QuickJSRuntime | undefined;
  let ctx: QuickJSContext | undefined;
  let result: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    rt = mod.newRuntime();
    rt.setMemoryLimit(limits.memoryBytes);
    rt.setMaxStackSize(limits.stackBytes);
    rt.setInterruptHandler(interrupt);
    ctx = rt.newContext();
    result = { ok: true, value: await fn(ctx, rt) };
  } catch (err) {
    result = { ok: false, error: err };
  }
  try {
    ctx?.dispose();
    rt?.dispose();
  } catch (err) {
    discardSkillEngine(mod, `dispose failed: ${(err as Error).message ?? String(err)}`);
    if (result.ok) result = { ok: false, error: new SkillRunError('engine', 'skill engine failed while cleaning up; it was replaced') };
  }
  if (result.ok) return result.value;
  const err = result.error;
  if (err instanceof SkillRunError) throw err;
  if (isEngineFault(err)) {
    discardSkillEngine(mod, (err as Error).message ?? String(err));
    throw new SkillRunError('engine', `skill engine fault (${(err as Error).message ?? String(err)}); the engine was replaced`);
  }
  throw new SkillRunError('runtime', (err as Error)?.message ?? String(err));
}

async function execute(ctx: QuickJSContext, rt: QuickJSRuntime, input: SandboxInput, state: RunState): Promise<string> {
  const { limits } = input;
  const fail = (h: QuickJSHandle, stage: string): SkillRunError => {
    const info = describeGuestError(ctx, h);
    h.dispose();
    return budgetOr(state, limits, info, stage);
  };
  let stringify: QuickJSHandle | undefined;
  try {
    installHost(ctx, input, state);
    const helper = ctx.evalCode(STRINGIFY, 'host.js');
    if (helper.error) throw fail(helper.error, 'setup');
    stringify = helper.value;
    const ev = ctx.evalCode(input.source, input.filename, { type: 'global' });
    if (ev.error) {
      const info = describeGuestError(ctx, ev.error);
      ev.error.dispose();
      if (info.name === 'SyntaxError') throw new SkillRunError('compile', formatCompileError(info));
      throw budgetOr(state, limits, info, 'top-level code failed');
    }
    ev.value.dispose();
    const mainH = ctx.getProp(ctx.global, 'main');
    if (ctx.typeof(mainH) !== 'function') {
      mainH.dispose();
      throw new SkillRunError('runtime', 'skill does not define a main(args) function');
    }
    const argH = ctx.newString(input.args);
    const call = ctx.callFunction(mainH, ctx.undefined, argH);
    argH.dispose();
    mainH.dispose();
    if (call.error) throw fail(call.error, 'main failed');
    const value = await settle(ctx, rt, call.value, state, limits);
    const text = ctx.callFunction(stringify, ctx.undefined, value);
    value.dispose();
    if (text.error) throw fail(text.error, 'failed converting the result to text');
    const out = ctx.getString(text.value);
    text.value.dispose();
    if (Buffer.byteLength(out, 'utf8') > limits.maxOutputBytes) throw new SkillRunError('budget', `skill output exceeds the output budget (${limits.maxOutputBytes} bytes)`);
    if (state.budget) throw new SkillRunError('budget', state.budget);
    return out;
  } finally {
    state.finished = true;
    stringify?.dispose();
    for (const d of state.deferreds) d.dispose();
    state.deferreds.clear();
  }
}

/** Waits for main's result: plain values at once, promises by pumping jobs as host calls land. */
function settle(ctx: QuickJSContext, rt: QuickJSRuntime, result: QuickJSHandle, state: RunState, limits: SandboxLimits): Promise<QuickJSHandle> {
  const first = ctx.getPromiseState(result);
  if (first.type === 'fulfilled' && first.notAPromise) return Promise.resolve(result);
  if (first.type === 'fulfilled') first.value.dispose();
  if (first.type === 'rejected') first.error.dispose();
  return new Promise<QuickJSHandle>((resolve, reject) => {
    let done = false;
    const end = (err: unknown, value?: QuickJSHandle) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      state.pump = () => undefined;
      result.dispose();
      if (err) reject(err);
      else resolve(value!);
    };
    const pump = () => {
      if (done) return;
      if (state.hostError !== undefined) return end(hostFailure(state, limits, state.hostError));
      try {
        const jobs = rt.executePendingJobs();
        if (jobs.error) {
          const info = describeGuestError(ctx, jobs.error);
          jobs.error.dispose();
          return end(budgetOr(state, limits, info, 'async code failed'));
        }
        if (state.budget) return end(new SkillRunError('budget', state.budget));
        const st = ctx.getPromiseState(result);
        if (st.type === 'fulfilled') return end(undefined, st.value);
        if (st.type === 'rejected') {
          const info = describeGuestError(ctx, st.error);
          st.error.dispose();
          return end(budgetOr(state, limits, info, 'main failed'));
        }
        if (state.inflight === 0) end(new SkillRunError('runtime', 'main() returned a promise that never settles (nothing left to wait for)'));
      } catch (err) {
        end(err);
      }
    };
    const timer = setTimeout(() => {
      state.budget ??= timeoutMessage(limits);
      end(new SkillRunError('budget', state.budget));
    }, Math.max(0, state.deadline - Date.now()));
    state.pump = pump;
    pump();
  });
}

function hostFailure(state: RunState, limits: SandboxLimits, err: unknown): unknown {
  if (state.budget) return new SkillRunError('budget', state.budget);
  if (isEngineFault(err)) return err;
  const msg = (err as Error)?.message ?? String(err);
  if (/out of memory|memory/i.test(msg)) return new SkillRunError('budget', memoryMessage(limits));
  return new SkillRunError('runtime', `failed handing a host result to the skill: ${msg}`);
}

function timeoutMessage(limits: SandboxLimits): string {
  return `skill exceeded the wall-time budget (${limits.timeoutMs} ms)`;
}

/** Maps a guest error to a budget error when a budget caused it, else a runtime error. */
function budgetOr(state: RunState, limits: SandboxLimits, info: GuestErrorInfo, stage: string): SkillRunError {
  if (state.budget) return new SkillRunError('budget', state.budget);
  if (info.name === 'InternalError' && info.message === 'interrupted') return new SkillRunError('budget', timeoutMessage(limits));
  if (info.name === 'InternalError' && /out of memory/.test(info.message)) return new SkillRunError('budget', memoryMessage(limits));
  if (info.name === 'InternalError' && /stack overflow/.test(info.message)) return new SkillRunError('budget', `skill exceeded the stack budget (${Math.round(limits.stackBytes / 1024)} KiB)`);
  return new SkillRunError('runtime', `${stage}: ${info.name}: ${info.message}${info.location ? ` (at ${info.location})` : ''}`);
}

function formatCompileError(info: GuestErrorInfo): string {
  const where = info.line !== undefined ? ` (line ${info.line}${info.column !== undefined ? `, column ${info.column}` : ''})` : '';
  return `${info.name}: ${info.message}${where}`;
}
