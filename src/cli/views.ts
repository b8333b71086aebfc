// Readable views of the JSON commands (stats, session, skills, pulse) for a human at a
// terminal. The JSON stays the contract for scripts; these pick what a person looks for.
import { renderReadable } from './readable.js';
import { painter, statusStyle, type Paint } from './style.js';

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : {});
const num = (v: unknown) => (typeof v === 'number' ? v : 0);
const str = (v: unknown) => (v === null || v === undefined ? '-' : String(v));

function colours(): Paint {
  return painter(process.stdout);
}

function status(paint: Paint, word: unknown): string {
  const w = str(word);
  const style = statusStyle(w);
  return style ? paint(style, w) : w;
}

export function statsText(json: unknown, paint: Paint = colours()): string {
  const j = rec(json);
  const t = rec(j.telemetry);
  const bus = rec(j.bus);
  const cache = rec(j.prompt_cache);
  const label = (s: string) => paint('bold', s.padEnd(13));
  const out = [
    `${label('turns')}${num(t.total_turns)} total · ${num(t.ok_turns)} ok · ${num(t.error_turns)} errors  (provider ${num(t.provider_turns)}, tool ${num(t.tool_turns)}, skill ${num(t.skill_turns)})`,
  ];
  const last = j.last_turn ? rec(j.last_turn) : undefined;
  if (last) {
    const where = last.path === 'provider' ? `${str(last.provider)}/${str(last.model)}` : `${str(last.path)}${last.tool_name ? ' ' + str(last.tool_name) : ''}`;
    out.push(`${label('last turn')}${str(last.timestamp)}  ${status(paint, last.status)}  ${where}  session ${str(last.session_id)}  ${str(last.latency_ms)} ms  ${paint('dim', str(last.request_id))}`);
    if (last.error) out.push(`${' '.repeat(13)}${paint('red', str(last.error))}`);
  } else out.push(`${label('last turn')}${paint('dim', '(none yet)')}`);
  out.push(`${label('bus')}published ${num(bus.published)} · consumed ${num(bus.consumed)} · dropped ${num(bus.dropped)} · depth ${num(bus.depth)}`);
  out.push(`${label('prompt cache')}hits ${num(cache.hits)} · misses ${num(cache.misses)}`);
  const known = new Set(['total_turns', 'ok_turns', 'error_turns', 'provider_turns', 'tool_turns', 'skill_turns', 'file', 'schema_version', 'updated_at', 'total_provider_attempts']);
  for (const [k, v] of Object.entries(t)) {
    if (known.has(k) || v === null || v === undefined) continue;
    out.push(paint('bold', k), renderReadable(v, paint).replace(/^/gm, '  '));
  }
  out.push(`${label('file')}${str(t.file)}  ${paint('dim', `(updated ${str(t.updated_at)})`)}`);
  return out.join('\n');
}

export function sessionText(records: Array<{ role: string; content: string; timestamp: string }>, paint: Paint = colours()): string {
  if (records.length === 0) return paint('dim', '(no messages in this session)');
  return records.map((r) => `${paint('dim', r.timestamp)} ${paint(r.role === 'user' ? 'cyan' : 'bold', r.role)}\n${r.content.replace(/^/gm, '  ')}`).join('\n');
}

export function skillsText(json: { skills: readonly object[]; skills_dir: string }, paint: Paint = colours()): string {
  const rows = json.skills.map(rec).map((s) => ({ name: s.name, size: `${num(s.size_bytes)} B`, modified: s.modified_at, description: s.description ?? '' }));
  return `${renderReadable(rows.length ? rows : [], paint)}\n${paint('dim', `skills dir: ${json.skills_dir}`)}`;
}

function actionName(a: unknown): string {
  if (typeof a === 'string') return a;
  const r = rec(a);
  const [k, v] = Object.entries(r)[0] ?? ['-', undefined];
  if (k === 'http_health_check') return `http ${str(rec(v).url)}`;
  if (k === 'emit_log') return `log "${str(rec(v).message)}"`;
  if (k === 'skill_generation') return `skill ${str(rec(v).name)}${rec(v).replace === true ? ' (replace)' : ''}`;
  return k;
}

export function jobsRows(jobs: unknown): Rec[] {
  return (Array.isArray(jobs) ? jobs : []).map((x) => {
    const j = rec(x);
    return { id: j.id, enabled: j.enabled, every: `${num(j.interval_secs)}s`, action: actionName(j.action), next_due_at: j.next_due_at, runs: j.runs, last_status: j.last_status };
  });
}

export function pulseStatusText(json: unknown, paint: Paint = colours()): string {
  const j = rec(json);
  const approvals = (Array.isArray(j.pending_approvals) ? j.pending_approvals : []).map((x) => {
    const a = rec(x);
    return { token: a.token, risk: a.risk, action: a.action, expires_at: a.expires_at };
  });
  const goals = (Array.isArray(j.goals) ? j.goals : []).map((x) => {
    const g = rec(x);
    return { id: g.id, achieved: g.achieved, description: g.description };
  });
  return renderReadable({ jobs: jobsRows(j.jobs), pending_approvals: approvals, goals, last_tick: j.last_tick ?? null }, paint);
}

/** doctor's text with its status words, errors and hints coloured (unchanged without colour). */
export function doctorColours(text: string, paint: Paint = colours()): string {
  return text
    .split('\n')
    .map((l) => {
      const st = /^status: (\w+)$/.exec(l);
      if (st) return `status: ${status(paint, st[1])}`;
      if (l.startsWith('- error: ')) return `- ${paint('red', 'error:')} ${l.slice(9)}`;
      if (l.startsWith('  hint: ')) return paint('dim', l);
      if (l === 'Rusty Pinch Doctor') return paint('bold', l);
      return l;
    })
    .join('\n');
}
