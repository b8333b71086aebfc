// OODA rules: observation parsing, orientation (model-assisted with a deterministic fallback),
// risk classification (the original's keyword lists), decision, and the approval rule with
// whole-word auto-allow that never covers a critical word implicitly.
import { PulseError } from './jobs.js';
import type { Observation, PendingAction, Risk } from './types.js';

export const CRITICAL_WORDS = ['purchase', 'payment', 'delete', 'self-update'] as const;
export const HIGH_WORDS = ['deploy', 'restart', 'email', 'shutdown'] as const;
const RANK: Record<Risk, number> = { low: 0, medium: 1, high: 2, critical: 3 };

export function riskAtLeast(risk: Risk, min: Risk): boolean {
  return RANK[risk] >= RANK[min];
}

/** `--observations` JSON: an array of `{source,key,value,severity?}`; blank → `[]`. */
export function parseObservations(text: string | undefined): Observation[] {
  if (text === undefined || text.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new PulseError(`failed parsing observations json: ${(err as Error).message}`, 'bad_input');
  }
  if (!Array.isArray(parsed)) throw new PulseError('failed parsing observations json: expected a JSON array of {source, key, value, severity}', 'bad_input');
  return parsed.map((o, i) => {
    if (!o || typeof o !== 'object' || Array.isArray(o)) throw new PulseError(`failed parsing observations json: item ${i} is not an object`, 'bad_input');
    const r = o as Record<string, unknown>;
    for (const f of ['source', 'key', 'value'] as const) {
      if (typeof r[f] !== 'string') throw new PulseError(`failed parsing observations json: item ${i} needs a string '${f}'`, 'bad_input');
    }
    if (r.severity !== undefined && typeof r.severity !== 'string') throw new PulseError(`failed parsing observations json: item ${i} 'severity' must be a string`, 'bad_input');
    return { source: r.source as string, key: r.key as string, value: r.value as string, severity: (r.severity as string | undefined) ?? 'info' };
  });
}

const isAlert = (o: Observation): boolean => o.severity.toLowerCase() !== 'info';

/** The original's deterministic orientation text. */
export function orientRule(obs: Observation[]): string {
  if (obs.length === 0) return 'no observations provided';
  const alerts = obs.filter(isAlert).length;
  return alerts === 0 ? `${obs.length} observations, no alerts` : `${obs.length} observations, ${alerts} require attention`;
}

export function decide(obs: Observation[]): 'continue' | 'escalate' {
  return obs.some(isAlert) ? 'escalate' : 'continue';
}

/** Risk on the trimmed, lower-cased action (substring matches, as the original: conservative). */
export function classifyRisk(action: string, obs: Observation[]): Risk {
  const a = action.trim().toLowerCase();
  if (CRITICAL_WORDS.some((w) => a.includes(w))) return 'critical';
  if (HIGH_WORDS.some((w) => a.includes(w))) return 'high';
  if (obs.some((o) => o.severity.toLowerCase() === 'error')) return 'medium';
  return 'low';
}

/** Whole-word (or whole-phrase) match; word characters are `a-z0-9_-`. */
export function matchesWord(action: string, keyword: string): boolean {
  const k = keyword.trim().toLowerCase();
  if (!k) return false;
  const esc = k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^a-z0-9_-])${esc}($|[^a-z0-9_-])`).test(action.trim().toLowerCase());
}

/**
 * Approval needed ⇔ risk >= high and not auto-allowed. `*` or a whole-word keyword allows a
 * high action; a critical action is allowed only when every critical word in it is itself an
 * explicitly listed keyword (`*` never covers one).
 */
export function requiresApproval(action: string, risk: Risk, autoAllow: readonly string[]): boolean {
  if (!riskAtLeast(risk, 'high')) return false;
  const a = action.trim().toLowerCase();
  const keywords = autoAllow.map((k) => k.trim().toLowerCase()).filter(Boolean);
  const critical = CRITICAL_WORDS.filter((w) => a.includes(w));
  if (critical.length > 0) return !critical.every((w) => keywords.includes(w) && matchesWord(a, w));
  return !keywords.some((k) => k === '*' || matchesWord(a, k));
}

/** Prompt for a model-assisted orientation. */
export function assessPrompt(action: string, obs: Observation[], goal: string | undefined): string {
  return [
    'You are the orientation step of an operations OODA loop. Assess these observations in at most three sentences:',
    'what is happening, how serious it is, and whether the planned action fits. Plain text only.',
    `Planned action: ${action}`,
    goal ? `Goal: ${goal}` : '',
    `Observations (JSON): ${JSON.stringify(obs)}`,
  ]
    .filter(Boolean)
    .join('\n');
}

/** Orientation: the model's assessment within `timeoutMs`, else the rule (with the reason). */
export async function orient(
  obs: Observation[],
  action: string,
  goal: string | undefined,
  assess: ((prompt: string) => Promise<string>) | undefined,
  timeoutMs: number,
): Promise<{ text: string; source: 'model' | 'rule'; note?: string }> {
  const rule = orientRule(obs);
  if (!assess) return { text: rule, source: 'rule' };
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await Promise.race([
      assess(assessPrompt(action, obs, goal)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`model assessment timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const text = answer.trim().slice(0, 1000);
    if (!text) return { text: rule, source: 'rule', note: 'model returned an empty assessment' };
    return { text: `${rule}; model: ${text}`, source: 'model' };
  } catch (err) {
    return { text: rule, source: 'rule', note: `model assessment failed: ${(err as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What an action text names, for Act and approvals: `http <METHOD> <url> [body]`,
 * `notify <text>`, `skill <name> [args]`, `tool <name> [args]`; anything else is `none`.
 */
export function parseAction(text: string): PendingAction {
  const t = text.trim();
  const m = /^(\S+)\s*([\s\S]*)$/.exec(t);
  if (!m) return { kind: 'none' };
  const verb = (m[1] ?? '').toLowerCase();
  const rest = (m[2] ?? '').trim();
  if (verb === 'http') {
    const h = /^([A-Za-z]+)\s+(https?:\/\/\S+)\s*([\s\S]*)$/.exec(rest);
    if (!h) return { kind: 'none' };
    return { kind: 'http', method: (h[1] ?? 'GET').toUpperCase(), url: h[2] ?? '', ...(h[3] ? { body: h[3] } : {}) };
  }
  if (verb === 'notify' && rest) return { kind: 'notify', text: rest };
  if ((verb === 'skill' || verb === 'tool') && rest) {
    const n = /^(\S+)\s*([\s\S]*)$/.exec(rest);
    const name = n?.[1] ?? '';
    const args = n?.[2]?.trim() ?? '';
    return verb === 'skill' ? { kind: 'skill', name, args } : { kind: 'tool', name, args, session_id: 'pulse', request_id: 'pulse' };
  }
  return { kind: 'none' };
}
