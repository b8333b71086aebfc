// `.env` parsing with dotenvy's rules (export prefix, # comments, quotes, ${VAR} expansion)
// and the original's precedence: the process environment wins, the first key in the file wins.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../kernel/index.js';

export type EnvMap = Record<string, string | undefined>;

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** Parses .env text into ordered entries. Throws a ConfigError naming the line on bad syntax. */
export function parseEnvText(text: string, lookup: (name: string) => string | undefined = () => undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const defined = new Map<string, string>();
  const get = (name: string): string => lookup(name) ?? defined.get(name) ?? '';
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  let i = 0;
  let line = 1;
  const fail = (msg: string): never => {
    throw new ConfigError(`line ${line}: ${msg}`);
  };
  while (i < src.length) {
    // Skip blank space and comment lines.
    const rest = src.slice(i);
    const blank = /^[ \t]*(#[^\n]*)?(\n|$)/.exec(rest);
    if (blank && blank[0].length > 0) {
      i += blank[0].length;
      if (blank[0].endsWith('\n')) line++;
      continue;
    }
    if (blank && blank[0].length === 0 && rest.length === 0) break;
    const head = /^[ \t]*(?:export[ \t]+)?([^=\s#]+)[ \t]*=[ \t]*/.exec(rest);
    if (!head) fail(`expected KEY=value, got '${rest.split('\n')[0]!.slice(0, 40)}'`);
    const key = head![1]!;
    if (!KEY_RE.test(key)) fail(`invalid variable name '${key}'`);
    i += head![0].length;
    let value = '';
    const q = src[i];
    if (q === "'" || q === '"') {
      const end = findClosingQuote(src, i + 1, q);
      if (end < 0) fail(`unterminated ${q === '"' ? 'double' : 'single'} quote for ${key}`);
      const raw = src.slice(i + 1, end);
      value = q === "'" ? raw : expand(unescapeDouble(raw), get);
      line += countNewlines(raw);
      i = end + 1;
      const tail = /^[ \t]*(#[^\n]*)?(\n|$)/.exec(src.slice(i));
      if (!tail) fail(`unexpected text after closing quote for ${key}`);
      i += tail![0].length;
      if (tail![0].endsWith('\n')) line++;
    } else {
      const nl = src.indexOf('\n', i);
      const end = nl < 0 ? src.length : nl;
      let raw = src.slice(i, end);
      const hash = raw.search(/[ \t]#/);
      if (hash >= 0) raw = raw.slice(0, hash);
      value = expand(raw.trim(), get);
      i = nl < 0 ? src.length : nl + 1;
      line++;
    }
    if (!defined.has(key)) defined.set(key, value);
    out.push([key, value]);
  }
  return out;
}

function findClosingQuote(src: string, from: number, q: string): number {
  for (let j = from; j < src.length; j++) {
    if (src[j] === '\\' && q === '"') {
      j++;
      continue;
    }
    if (src[j] === q) return j;
  }
  return -1;
}

function countNewlines(s: string): number {
  let n = 0;
  for (const c of s) if (c === '\n') n++;
  return n;
}

function unescapeDouble(s: string): string {
  return s.replace(/\\([nrt"\\$])/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c as 'n'] ?? c);
}

function expand(s: string, get: (name: string) => string): string {
  return s.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a: string | undefined, b: string | undefined) => get((a ?? b)!));
}

export interface LoadedEnv {
  env: EnvMap;
  /** The file that was loaded, if any. */
  file: string | undefined;
}

/**
 * Merges the dotenv file into a copy of `processEnv`. `RUSTY_PINCH_ENV_FILE` (non-blank) is
 * strict: missing or unparsable is fatal. Otherwise `<cwd>/.env` is optional, but a file that
 * exists and does not parse is still fatal (as in the original).
 */
export function loadEnv(processEnv: EnvMap = process.env, cwd = process.cwd()): LoadedEnv {
  const explicit = processEnv.RUSTY_PINCH_ENV_FILE?.trim();
  const file = explicit ? resolve(cwd, explicit) : resolve(cwd, '.env');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!explicit && code === 'ENOENT') return { env: { ...processEnv }, file: undefined };
    throw new ConfigError(`failed loading ${explicit ? 'RUSTY_PINCH_ENV_FILE' : '.env'} from ${explicit ? file : 'current directory'}: ${code === 'ENOENT' ? 'file not found' : (err as Error).message}`, {
      hint: explicit ? 'Point RUSTY_PINCH_ENV_FILE at an existing file, or unset it.' : undefined,
    });
  }
  let entries: Array<[string, string]>;
  try {
    entries = parseEnvText(text, (name) => processEnv[name]);
  } catch (err) {
    throw new ConfigError(`failed loading ${explicit ? 'RUSTY_PINCH_ENV_FILE' : '.env'} from ${explicit ? file : 'current directory'}: ${(err as Error).message}`);
  }
  const env: EnvMap = { ...processEnv };
  const seen = new Set<string>();
  for (const [k, v] of entries) {
    if (seen.has(k)) continue; // first declaration in the file wins
    seen.add(k);
    if (env[k] === undefined) env[k] = v; // the process environment wins
  }
  return { env, file };
}
