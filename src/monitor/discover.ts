// Finds the rusty-pinch process to watch. A process matches when its executable or the script
// node runs IS rusty-pinch (basename of argv[0]/argv[1], or a rusty-pinch dist/cli.js), never
// because its command line merely contains the text. The monitor and its ancestors (npm/shell
// wrappers) and other monitors are skipped; the oldest serve/channels process wins.
import { readFile, readdir, readlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { parseCmdline, parsePidStat } from './proc-parse.js';

export interface Candidate {
  pid: number;
  startTicks: number;
  /** Redacted label: argv[0..1] basenames plus the subcommand, never other arguments. */
  label: string;
  subcommand: string | undefined;
}

export interface Discovery {
  chosen: Candidate | undefined;
  reason: string;
  candidates: Candidate[];
}

const NODE_RE = /^(node|nodejs|node\d+|bun|deno|tsx)(\.exe)?$/;
const SCRIPT_EXT_RE = /\.(c|m)?(j|t)s$/;
/** node options that take the next argument as their value. */
const NODE_VALUE_OPTS = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '--env-file', '--title', '--inspect-port', '--conditions', '-C', '--input-type', '--stack-size']);
const EVAL_OPTS = new Set(['-e', '--eval', '-p', '--print', '-']);
const PREFERRED = new Set(['serve', 'channels']);

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

function firstPositional(args: string[]): string | undefined {
  return args.find((a) => !a.startsWith('-'));
}

function stripExt(name: string): string {
  return name.replace(SCRIPT_EXT_RE, '');
}

/** Is `script` the dist/cli.js of a rusty-pinch install (package.json beside dist says so)? */
async function isRustyPinchDist(script: string, cwd: string | undefined): Promise<boolean> {
  if (!/(^|\/)dist\/cli\.m?js$/.test(script)) return false;
  const abs = isAbsolute(script) ? script : cwd ? resolve(cwd, script) : undefined;
  if (!abs) return false;
  const pkg = await readText(join(dirname(dirname(abs)), 'package.json'));
  if (!pkg) return false;
  try {
    return (JSON.parse(pkg) as { name?: unknown }).name === 'rusty-pinch';
  } catch {
    return false;
  }
}

/**
 * Decides whether an argv is a rusty-pinch process for `match`; returns its redacted label and
 * subcommand. `cwd` resolves a relative `dist/cli.js`.
 */
export async function classifyArgv(argv: string[], match: string, cwd?: string): Promise<{ label: string; subcommand: string | undefined } | undefined> {
  if (argv.length === 0 || !match) return undefined;
  const b0 = basename(argv[0] ?? '');
  if (b0 === match || stripExt(b0) === match) {
    const sub = firstPositional(argv.slice(1));
    return { label: [b0, sub].filter(Boolean).join(' '), subcommand: sub };
  }
  if (!NODE_RE.test(b0)) return undefined;
  // node [options] <script> [args]: find the script, refusing -e/-p (inline code).
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (EVAL_OPTS.has(a) || a.startsWith('--eval=') || a.startsWith('--print=')) return undefined;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-')) break;
    if (NODE_VALUE_OPTS.has(a)) i++;
  }
  const script = argv[i];
  if (!script) return undefined;
  const b1 = basename(script);
  const ok = b1 === match || stripExt(b1) === match || (match === 'rusty-pinch' && (await isRustyPinchDist(script, cwd)));
  if (!ok) return undefined;
  const sub = firstPositional(argv.slice(i + 1));
  return { label: [b0, b1, sub].filter(Boolean).join(' '), subcommand: sub };
}

/** The pid chain from `pid` up to init (exclusive of 0). */
export async function ancestors(pid: number, procRoot = '/proc'): Promise<Set<number>> {
  const out = new Set<number>();
  let cur = pid;
  for (let guard = 0; guard < 256 && cur > 1; guard++) {
    const text = await readText(join(procRoot, String(cur), 'stat'));
    const st = text === undefined ? undefined : parsePidStat(text);
    if (!st || st.ppid <= 0 || out.has(st.ppid)) break;
    out.add(st.ppid);
    cur = st.ppid;
  }
  return out;
}

export interface DiscoverOptions {
  match?: string;
  procRoot?: string;
  /** The monitor's own pid (excluded with its ancestors). Default process.pid. */
  selfPid?: number;
  /** Restrict the scan to these pids (tests). */
  pids?: number[];
}

export async function discover(opts: DiscoverOptions = {}): Promise<Discovery> {
  const match = opts.match ?? 'rusty-pinch';
  const procRoot = opts.procRoot ?? '/proc';
  const self = opts.selfPid ?? process.pid;
  const excluded = await ancestors(self, procRoot);
  excluded.add(self);
  let pids = opts.pids;
  if (!pids) {
    let names: string[] = [];
    try {
      names = await readdir(procRoot);
    } catch {
      names = [];
    }
    pids = names.filter((n) => /^\d+$/.test(n)).map(Number);
  }
  const candidates: Candidate[] = [];
  for (const pid of pids) {
    if (excluded.has(pid)) continue;
    const dir = join(procRoot, String(pid));
    const raw = await readText(join(dir, 'cmdline'));
    if (!raw) continue;
    const cwd = await readlink(join(dir, 'cwd')).catch(() => undefined);
    const cls = await classifyArgv(parseCmdline(raw), match, cwd);
    if (!cls || cls.subcommand === 'monitor') continue;
    const statText = await readText(join(dir, 'stat'));
    const st = statText === undefined ? undefined : parsePidStat(statText);
    if (!st || st.state === 'Z') continue;
    candidates.push({ pid, startTicks: st.startTicks, label: cls.label, subcommand: cls.subcommand });
  }
  const byAge = (a: Candidate, b: Candidate) => a.startTicks - b.startTicks || a.pid - b.pid;
  candidates.sort(byAge);
  if (candidates.length === 0) return { chosen: undefined, reason: `no process whose executable or script is '${match}' (other than this monitor)`, candidates };
  const preferred = candidates.filter((c) => c.subcommand !== undefined && PREFERRED.has(c.subcommand));
  const of = candidates.length === 1 ? 'the only matching process' : `of ${candidates.length} matching processes`;
  if (preferred.length > 0) {
    const c = preferred[0]!;
    return { chosen: c, reason: candidates.length === 1 ? `${of} ('${c.subcommand}')` : `oldest '${c.subcommand}' process ${of}`, candidates };
  }
  const c = candidates[0]!;
  return { chosen: c, reason: candidates.length === 1 ? of : `oldest ${of} (no serve/channels process)`, candidates };
}

function safeWord(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const b = basename(s);
  return /^[\w.@+-]{1,64}$/.test(b) ? b : '…';
}

/** A redacted label for any pid (used with --pid): the rusty-pinch label, else argv[0..1] basenames. */
export async function labelFor(pid: number, match: string, procRoot = '/proc'): Promise<string | undefined> {
  const dir = join(procRoot, String(pid));
  const raw = await readText(join(dir, 'cmdline'));
  if (raw === undefined) return undefined;
  const argv = parseCmdline(raw);
  if (argv.length === 0) return undefined; // kernel thread or zombie
  const cwd = await readlink(join(dir, 'cwd')).catch(() => undefined);
  const cls = await classifyArgv(argv, match, cwd);
  if (cls) return cls.label;
  return [safeWord(argv[0]), safeWord(argv[1])].filter(Boolean).join(' ');
}
