// Sample arguments a goal implies, for a reply that is only a code block (no samples of its
// own): quoted strings, URLs, an example after "e.g." / "for example" / "such as" / "like", and
// a name, place or number after "for" / "of" / "in" / "to" / "from". Deterministic and bounded:
// at most MAX_INFERRED strings of at most MAX_ARG_CHARS each, from the goal's first
// MAX_GOAL_SCAN characters; anything odd is skipped, never an error.

export const MAX_INFERRED = 3;
const MAX_ARG_CHARS = 80;
const MAX_GOAL_SCAN = 2000;

// Single quotes only at word edges, so contractions ("don't … it's") never pair up.
const QUOTED = /"([^"\n]{1,80})"|“([^”\n]{1,80})”|(?<![\p{L}\d])'([^'\n]{1,80})'(?![\p{L}\d])|‘([^’\n]{1,80})’|`([^`\n]{1,80})`/gu;
const URL_LIKE = /\bhttps?:\/\/[^\s"'`<>()]+|\b(?:[a-z0-9-]+\.)+(?:com|org|net|io|dev|de|uk|fr|eu)\b(?:\/[^\s"'`<>()]*)?/gi;
const EXAMPLE = /\b(?:e\.g\.|eg\.|for example|for instance|such as)[:,]?\s+([^,;:.!?()\n]{1,80})/gi;
// "like" only before a value ("a city like Paris"), not in "I'd like a skill that…".
const LIKE = /\b[Ll]ike\s+([\p{Lu}\d][^,;:.!?()\n]{0,79})/gu;
// A capitalised name (up to three words) or a number after a preposition: "weather in New York".
const AFTER_PREPOSITION = /\b(?:for|of|in|to|from|at)\s+((?:\p{Lu}[\p{L}'-]*(?:\s+\p{Lu}[\p{L}'-]*){0,2})|-?\d+(?:[.,]\d+)?)/gu;
// Words that start a sentence or name a type, not a value ("for Example", "in JSON").
const NOT_A_VALUE = new Set(['the', 'a', 'an', 'i', 'it', 'this', 'that', 'json', 'javascript', 'js', 'utc', 'example', 'instance']);

/** Arguments the goal implies (possibly none), in the order found, without duplicates or "". */
export function inferSampleArgs(goal: string): string[] {
  const text = typeof goal === 'string' ? goal.slice(0, MAX_GOAL_SCAN) : '';
  const out: string[] = [];
  const add = (raw: string | undefined): void => {
    if (out.length >= MAX_INFERRED || raw === undefined) return;
    const v = raw.trim().replace(/\s+/g, ' ').replace(/[.,;:!?]+$/, '');
    if (v === '' || v.length > MAX_ARG_CHARS || /[\u0000-\u001f\u007f]/.test(v)) return;
    if (NOT_A_VALUE.has(v.toLowerCase())) return;
    if (!out.includes(v)) out.push(v);
  };
  for (const m of text.matchAll(QUOTED)) add(m.slice(1).find((g) => g !== undefined));
  for (const m of text.matchAll(URL_LIKE)) add(m[0]);
  for (const m of text.matchAll(EXAMPLE)) add(firstWords(m[1] ?? '', 4));
  for (const m of text.matchAll(LIKE)) add(firstWords(m[1] ?? '', 4));
  for (const m of text.matchAll(AFTER_PREPOSITION)) add(m[1]);
  return out;
}

/** The first `n` words of an example phrase ("Berlin or Paris" → "Berlin"). */
function firstWords(phrase: string, n: number): string {
  const cut = phrase.split(/\s+(?:or|and|etc)\b/i)[0] ?? '';
  return cut.trim().split(/\s+/).slice(0, n).join(' ');
}
