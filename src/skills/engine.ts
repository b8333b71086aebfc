// The shared QuickJS WebAssembly module (sync build): loaded lazily on the first skill run,
// reused by every run, and discarded (replaced on the next run) when it may be corrupted.
import type { QuickJSSyncVariant, QuickJSWASMModule } from 'quickjs-emscripten-core';
import { emitEvent } from '../observe/index.js';

let maxModuleBytes = 256 << 20;

/** Caps the module's WebAssembly memory (all runs in this thread share it). */
export function configureSkillEngine(options: { maxModuleBytes: number }): void {
  maxModuleBytes = options.maxModuleBytes;
}

let slot: { promise: Promise<QuickJSWASMModule>; module?: QuickJSWASMModule } | undefined;
export const engineStats = { loads: 0, discards: 0 };

/** The current module, loading it on first use (about 4 ms). */
export function getSkillEngine(): Promise<QuickJSWASMModule> {
  if (slot) return slot.promise;
  const current: { promise: Promise<QuickJSWASMModule>; module?: QuickJSWASMModule } = { promise: loadModule() };
  current.promise.then((mod) => (current.module = mod), () => undefined);
  current.promise.catch(() => {
    if (slot === current) slot = undefined; // a failed load is retried by the next run
  });
  slot = current;
  return current.promise;
}

async function loadModule(): Promise<QuickJSWASMModule> {
  const [{ newQuickJSWASMModuleFromVariant, newVariant }, variant] = await Promise.all([import('quickjs-emscripten-core'), import('@jitl/quickjs-wasmfile-release-sync')]);
  const base = ((variant as { default?: unknown }).default ?? variant) as QuickJSSyncVariant;
  // The build's own malloc accounting undercounts (no malloc_usable_size), so the module's
  // linear memory gets a hard maximum: past it, allocations fail as guest `out of memory`.
  const pages = (n: number) => Math.ceil(n / 65536);
  const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => unknown } }).WebAssembly.Memory;
  const wasmMemory = new WasmMemory({ initial: 256, maximum: Math.min(32768, Math.max(512, pages(maxModuleBytes))) });
  // Emscripten prints to the console on its own (e.g. `Aborted(Assertion failed: …)` before it
  // throws); stderr carries JSON lines only, so its output becomes an event.
  const emscriptenModule = { print: (text: string) => engineOutput('stdout', text), printErr: (text: string) => engineOutput('stderr', text) };
  const mod = await newQuickJSWASMModuleFromVariant(newVariant(base, { wasmMemory: wasmMemory as never, emscriptenModule: emscriptenModule as never }));
  engineStats.loads++;
  return mod;
}

function engineOutput(stream: 'stdout' | 'stderr', text: unknown): void {
  emitEvent('skill_engine_output', { stream, message: String(text).slice(0, 2000) });
}

/** Drops `mod` so the next run loads a fresh one. Runs still using it finish or fail alone. */
export function discardSkillEngine(mod: QuickJSWASMModule, reason: string): void {
  if (slot?.module !== mod) return;
  slot = undefined;
  engineStats.discards++;
  emitEvent('skill_engine_discarded', { reason });
}

/** Host-side errors that mean the WebAssembly instance can no longer be trusted. */
export function isEngineFault(err: unknown): boolean {
  if (err instanceof RangeError) return true; // V8 stack overflow while inside WASM
  if (err instanceof Error && err.constructor?.name === 'RuntimeError') return true; // WebAssembly.RuntimeError
  const msg = err instanceof Error ? err.message : String(err);
  return /Aborted|Assertion failed|memory access out of bounds|unreachable/i.test(msg);
}
