// OODA rules: observation parsing, orientation (model-assisted with a deterministic fallback),
// risk classification, decision, and the approval rule. An action that does something (an HTTP
// call, a skill, a tool, a notification) is classified by its structure: what it performs, never
// the words in it, so `http POST …` waits for approval however it is phrased and a word in a URL
// cannot auto-allow it. Free-text actions (nothing is performed, the decision is recorded) keep
// the original's keyword lists, with whole-word auto-allow that never covers a critical word.
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

/** The original's keyword risk of a free-text action (substring matches: conservative). */
function keywordRisk(action: string): Risk {
  const a = action.trim().toLowerCase();
  if (CRITICAL_WORDS.some((w) => a.includes(w))) return 'critical';
  if (HIGH_WORDS.some((w) => a.includes(w))) return 'high';
  return 'low';
}

const READ_ONLY_METHODS = ['GET', 'HEAD', 'OPTIONS'];

/**
 * What performing `p` does to the outside world. A read (GET/HEAD/OPTIONS) is low; any other
 * request changes something (DELETE: critical); a skill or tool runs code that may act (high);
 * `notify` goes to the operator's own targets (RUSTY_PINCH_PULSE_NOTIFY), not to others, so it
 * is not held (medium). Undefined for free text (`none`).
 */
export function structuralRisk(p: PendingAction): Risk | undefined {
  switch (p.kind) {
    case 'http':
      if (READ_ONLY_METHODS.includes(p.method.toUpperCase())) return 'low';
      return p.method.toUpperCase() === 'DELETE' ? 'critical' : 'high';
    case 'skill':
    case 'tool':
      return 'high';
    case 'notify':
      return 'medium';
    default:
      return undefined;
  }
}

/**
 * Risk of an action: from what it performs (`perform`, default: what the text names); the
 * original's keywords classify free text and can only raise the risk of a skill or tool call;
 * an `error` observation raises it to at least medium.
 */
export function classifyRisk(action: string, obs: Observation[], perform: PendingAction = parseAction(action)): Risk {
  let base = structuralRisk(perform) ?? keywordRisk(action);
  // Words may raise the risk of running code (`tool shell delete …`), never lower any risk.
  if ((perform.kind === 'skill' || perform.kind === 'tool') && riskAtLeast(keywordRisk(action), base)) base = keywordRisk(action);
  if (!riskAtLeast(base, 'medium') && obs.some((o) => o.severity.toLowerCase() === 'error')) return 'medium';
  return base;
}

/**
 * Auto-allow names of a performed action: `http:<method>`, `skill:<name>` (or the bare skill
 * name), `tool:<name>` (or the bare tool name), `notify`. Never words from a URL, body or args.
 */
function structuralKeys(p: PendingAction): string[] {
  switch (p.kind) {
    case 'http':
      return [`http:${p.method.toLowerCase()}`];
    case 'skill':
      return [`skill:${p.name.toLowerCase()}`, p.name.toLowerCase()];
    case 'tool':
      return [`tool:${p.name.toLowerCase()}`, p.name.toLowerCase()];
    case 'notify':
      return ['notify'];
    default:
      return [];
  }
}

/** Whole-word (or whole-phrase) match; word characters are `a-z0-9_-`. */
export function matchesWord(action: string, keyword: string): boolean {
  const k = keyword.trim().toLowerCase();
  if (!k) return false;
  const esc = k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^a-z0-9_-])${esc}($|[^a-z0-9_-])`).test(action.trim().toLowerCase());
}

/**
 * Approval needed ⇔ risk >= high and not auto-allowed. A performed action is allowed only by
 * its structural name (`http:post`, `skill:<name>`, `tool:<name>`) or, when high but not
 * critical, by `*`. Free text: `*` or a whole-word keyword allows a high action; a critical one
 * only when every critical word in it is itself an explicitly listed keyword.
 */
export function requiresApproval(action: string, risk: Risk, autoAllow: readonly string[], perform: PendingAction = parseAction(action)): boolean {
  if (!riskAtLeast(risk, 'high')) return false;
  const a = action.trim().toLowerCase();
  const keywords = autoAllow.map((k) => k.trim().toLowerCase()).filter(Boolean);
  if (perform.kind !== 'none') {
    const names = structuralKeys(perform);
    if (keywords.some((k) => names.includes(k))) return false;
    return risk === 'critical' || !keywords.includes('*');
  }
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
  if (verb === 'skill_create') {
    const g = /^(\S+)\s+([\s\S]+)$/.exec(rest);
    return g ? { kind: 'skill_generation', name: g[1] ?? '', goal: (g[2] ?? '').trim() } : { kind: 'none' };
  }
  if ((verb === 'skill' || verb === 'tool') && rest) {
    const n = /^(\S+)\s*([\s\S]*)$/.exec(rest);
    const name = n?.[1] ?? '';
    const args = n?.[2]?.trim() ?? '';
    return verb === 'skill' ? { kind: 'skill', name, args } : { kind: 'tool', name, args, session_id: 'pulse', request_id: 'pulse' };
  }
  return { kind: 'none' };
}
