// Secret redaction, in one place: by value for every secret this process knows (configured keys,
// tokens, account keys, passwords in URLs), plus patterns for credential shapes we never
// configured (keys echoed back by a remote, tokens in Bot API URLs).

const MIN_SECRET_LENGTH = 6; // shorter values would redact ordinary words
const known = new Set<string>();
let sortedCache: string[] | undefined;

/** Adds values to redact wherever text leaves the process (logs, errors, state, replies). */
export function registerSecrets(values: Iterable<string | undefined | null>): void {
  for (const v of values) {
    const s = v?.trim();
    if (s && s.length >= MIN_SECRET_LENGTH && !known.has(s)) {
      known.add(s);
      sortedCache = undefined;
    }
  }
}

/** Names of environment variables whose values are secrets (keys, tokens, passwords). */
export function isSecretVariable(name: string): boolean {
  return /(?:API_KEY|_TOKEN|SECRET|PASSWORD|PASSPHRASE|_KEY_B64|AUTH_JSON|HMAC_KEY|SIGNING_KEY)/i.test(name);
}

/** Registers every secret-named variable of an environment map. */
export function registerSecretsFromEnv(env: Record<string, string | undefined>): void {
  const vals: string[] = [];
  for (const [k, v] of Object.entries(env)) if (v && isSecretVariable(k)) vals.push(v);
  registerSecrets(vals);
}

/** True when `text` holds a registered secret's value (input that must not be stored or sent on). */
export function containsKnownSecret(text: string): boolean {
  for (const s of known) if (text.includes(s)) return true;
  return false;
}

/** Test hook: forget registered values. */
export function clearRegisteredSecrets(): void {
  known.clear();
  sortedCache = undefined;
}

const SECRET_PATTERNS: RegExp[] = [
  /\b(sk-[A-Za-z0-9_-]{6})[A-Za-z0-9_-]+/g, // OpenAI-style keys
  /\b(\d{6,12}:)[A-Za-z0-9_-]{30,}/g, // Telegram bot tokens
  /(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi,
  /(\/bot)[0-9]+:[A-Za-z0-9_-]+/g, // token inside Bot API URLs
  /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:)[^\s/@]+(@)/gi, // password in a URL's userinfo
];

/** Removes credentials from a text before it is logged, stored or shown. */
export function redactSecrets(text: string): string {
  let out = text;
  if (known.size > 0) {
    // Longest first, so a secret containing another is replaced whole.
    sortedCache ??= [...known].sort((a, b) => b.length - a.length);
    for (const s of sortedCache) if (out.includes(s)) out = out.split(s).join('***');
  }
  for (const re of SECRET_PATTERNS) out = out.replace(re, (_m, head: string, tail?: unknown) => `${head}***${typeof tail === 'string' ? tail : ''}`);
  return out;
}
