// Reading the Codex CLI's output: plain text, or `codex exec --json` JSONL events (the last
// agent message is the reply; a failed turn is an error), and cleaning text for error lines.
import { AppError } from '../kernel/index.js';

/**
 * The reply in a CLI's output. Plain mode: trimmed stdout, else trimmed stderr, else
 * `<empty codex output>`. `--json` mode (JSONL events): the last `agent_message`'s text;
 * a `turn.failed` (or an `error` with no answer) is thrown with its message.
 */
export function parseCodexOutput(stdout: string, stderr: string): string {
  const events = jsonlEvents(stdout);
  if (events) {
    let answer: string | undefined;
    let failed: string | undefined;
    let lastError: string | undefined;
    for (const e of events) {
      if (e.type === 'turn.failed') failed = messageOf(e.error) ?? 'codex turn failed';
      else if (e.type === 'error') lastError = typeof e.message === 'string' ? e.message : 'codex reported an error';
      else if (e.type === 'item.completed' && isObject(e.item) && e.item.type === 'agent_message' && typeof e.item.text === 'string') answer = e.item.text;
    }
    if (failed !== undefined) throw new AppError('codex', `codex turn failed: ${stripControl(failed)}`);
    if (answer !== undefined && answer.trim()) return answer.trim();
    if (lastError !== undefined) throw new AppError('codex', `codex reported an error: ${stripControl(lastError)}`);
    return stderr.trim() || '<empty codex output>';
  }
  return stdout.trim() || stderr.trim() || '<empty codex output>';
}

/** The message of a `--json` run's `turn.failed`/`error` event, if stdout has one. */
export function jsonFailure(stdout: string): string | undefined {
  let msg: string | undefined;
  for (const e of jsonlEvents(stdout) ?? []) {
    if (e.type === 'turn.failed') msg = messageOf(e.error) ?? msg;
    else if (e.type === 'error' && msg === undefined && typeof e.message === 'string') msg = e.message;
  }
  return msg;
}

/** Parsed events when stdout is JSONL of `{type: …}` objects; undefined for plain text. */
function jsonlEvents(stdout: string): Array<Record<string, unknown>> | undefined {
  const lines = stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length === 0) return undefined;
  const first = tryJson(lines[0]!);
  if (!isObject(first) || typeof first.type !== 'string') return undefined;
  const out: Array<Record<string, unknown>> = [];
  for (const l of lines) {
    const e = tryJson(l);
    if (isObject(e) && typeof e.type === 'string') out.push(e);
  }
  return out;
}

function tryJson(line: string): unknown {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function messageOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.message === 'string') return v.message;
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Control characters removed, except newline and tab (as the original). */
export function stripControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}

/** Token usage of a `--json` run (its `turn.completed` event), if it reported any. */
export interface CodexUsage {
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_output_tokens: number;
}

export function codexUsage(stdout: string): CodexUsage | undefined {
  let usage: CodexUsage | undefined;
  for (const e of jsonlEvents(stdout) ?? []) {
    if (e.type !== 'turn.completed' || !isObject(e.usage)) continue;
    const u = e.usage;
    const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);
    usage = { input_tokens: n(u.input_tokens), cached_input_tokens: n(u.cached_input_tokens), output_tokens: n(u.output_tokens), reasoning_output_tokens: n(u.reasoning_output_tokens) };
  }
  return usage;
}

/** The `thread.started` id of a `--json` run (names its rollout file). */
export function codexThreadId(stdout: string): string | undefined {
  for (const e of jsonlEvents(stdout) ?? []) if (e.type === 'thread.started' && typeof e.thread_id === 'string') return e.thread_id;
  return undefined;
}
