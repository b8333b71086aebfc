// Validation of a candidate: a dry run (compiles, defines main) and sandboxed runs with the
// sample arguments under the normal budgets and URL policy. A syntax error, a thrown error, a
// budget overrun, an empty or non-string result all fail, with the exact error text.
import { errorChain } from '../../kernel/index.js';
import { MAX_SKILL_BYTES } from '../../skills/index.js';

/** The sandbox operations validation needs (SkillManager provides them). */
export interface SkillSandbox {
  compileSource(name: string, source: string): Promise<void>;
  runSource(name: string, source: string, args: string, options?: { signal?: AbortSignal; holdPosts?: boolean }): Promise<string>;
}

export type Validation = { ok: true; outputs: Array<{ args: string; output: string }> } | { ok: false; step: 'dry_run' | 'run'; error: string; args?: string };

// Appended after the candidate (its line numbers stay true): main must be a function and its
// result a string; a non-string result becomes an error the model can read.
const RESULT_GUARD = `
;(function () {
  if (typeof main !== 'function') throw new Error('the skill does not define a top-level function main(args)');
  const inner = main;
  globalThis.main = async function (args) {
    const r = await inner(args);
    if (typeof r !== 'string') throw new Error('main(args) must return a string, got ' + (r === null ? 'null' : Array.isArray(r) ? 'array' : typeof r));
    return r;
  };
})();
`;

export async function validateCandidate(sandbox: SkillSandbox, name: string, code: string, samples: string[], signal?: AbortSignal): Promise<Validation> {
  if (code.trim() === '') return { ok: false, step: 'dry_run', error: 'the reply held no code' };
  const bytes = Buffer.byteLength(code, 'utf8');
  if (bytes > MAX_SKILL_BYTES) return { ok: false, step: 'dry_run', error: `the skill exceeds the size limit (${bytes} bytes > ${MAX_SKILL_BYTES})` };
  try {
    await sandbox.compileSource(name, code);
  } catch (err) {
    return { ok: false, step: 'dry_run', error: errorChain(err) };
  }
  if (!/\bfunction\s+main\s*\(|\bmain\s*=/.test(code)) return { ok: false, step: 'dry_run', error: 'the skill does not define a top-level function main(args)' };
  const outputs: Array<{ args: string; output: string }> = [];
  for (const args of samples) {
    let output: string;
    try {
      output = await sandbox.runSource(name, code + RESULT_GUARD, args, { signal, holdPosts: true });
    } catch (err) {
      // The sandbox says "main failed: …"; the prefix already names the call.
      return { ok: false, step: 'run', args, error: `main(${JSON.stringify(args)}) failed: ${errorChain(err).replace(/^main failed: /, '')}` };
    }
    if (output.trim() === '') return { ok: false, step: 'run', args, error: `main(${JSON.stringify(args)}) returned an empty string` };
    outputs.push({ args, output });
  }
  return { ok: true, outputs };
}
