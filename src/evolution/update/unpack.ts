// Safe unpacking of a release tarball into a slot. First pass lists every header and refuses
// the archive before anything is written: one top directory `rusty-pinch-<version>/`, only
// files, directories and in-slot links, no absolute paths or `..`, no devices or FIFOs, a cap on
// the total size and the entry count. Second pass extracts into a fresh directory beside the
// slot (node-tar also refuses to write through a symlink), which is then renamed into place.
import { list, extract } from 'tar';
import { mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { posix } from 'node:path';
import { EvolutionError } from '../errors.js';
import { fsyncDir } from '../fs-util.js';

const MAX_ENTRIES = 200_000;
const OK_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

export interface UnpackResult {
  topDir: string;
  entries: number;
  bytes: number;
  /** From the tree's package.json. */
  version: string;
}

function insideRel(p: string): string | undefined {
  if (p.includes('\0') || p.includes('\\') || posix.isAbsolute(p)) return undefined;
  const n = posix.normalize(p);
  if (n === '..' || n.startsWith('../')) return undefined;
  return n === '.' ? '' : n.replace(/\/$/, '');
}

/** `accept(version)` runs before the slot is replaced; throwing there leaves the slot as it was. */
export async function unpackRelease(artifact: string, slotDir: string, maxBytes: number, accept: (version: string) => void = () => {}): Promise<UnpackResult> {
  let top: string | undefined;
  let bytes = 0;
  let entries = 0;
  let problem: string | undefined;
  const fail = (msg: string): void => {
    problem ??= msg;
  };
  try {
    await list({
      file: artifact,
      strict: true,
      onReadEntry: (e) => {
        entries++;
        const raw = e.path;
        const rel = insideRel(raw);
        if (rel === undefined) return fail(`archive entry '${raw}' escapes the slot`);
        const [head, ...rest] = rel.split('/');
        if (!head) return fail(`archive entry '${raw}' has no top directory`);
        if (top === undefined) top = head;
        else if (head !== top) return fail(`archive has more than one top directory ('${top}', '${head}')`);
        if (!OK_TYPES.has(e.type)) return fail(`archive entry '${raw}' has unsupported type ${e.type}`);
        if (e.type === 'SymbolicLink') {
          const target = e.linkpath ?? '';
          const resolved = posix.isAbsolute(target) ? undefined : insideRel(posix.join(posix.dirname(rest.join('/') || '.'), target));
          if (!target || resolved === undefined) return fail(`archive link '${raw}' points outside the slot`);
        }
        if (e.type === 'Link') {
          const t = insideRel(e.linkpath ?? '');
          if (t === undefined || t.split('/')[0] !== top) return fail(`archive hard link '${raw}' points outside the slot`);
        }
        bytes += e.size ?? 0;
        if (bytes > maxBytes) fail(`archive unpacks to more than ${maxBytes} bytes (RUSTY_PINCH_EVOLUTION_MAX_UNPACKED_BYTES)`);
        if (entries > MAX_ENTRIES) fail(`archive has more than ${MAX_ENTRIES} entries`);
      },
    });
  } catch (err) {
    throw new EvolutionError(`artifact is not a readable gzip tar archive: ${(err as Error).message}`);
  }
  if (problem) throw new EvolutionError(`artifact refused: ${problem}`);
  if (!top || !/^rusty-pinch-[0-9A-Za-z.+-]+$/.test(top)) throw new EvolutionError(`artifact refused: top directory '${top ?? ''}' is not rusty-pinch-<version>/`);

  const incoming = `${slotDir}.incoming`;
  rmSync(incoming, { recursive: true, force: true });
  mkdirSync(incoming, { recursive: true, mode: 0o755 });
  try {
    await extract({
      file: artifact,
      cwd: incoming,
      strip: 1,
      strict: true,
      preserveOwner: false,
      noMtime: false,
      filter: (p) => insideRel(p) !== undefined,
    });
    const version = readVersion(incoming);
    if (`rusty-pinch-${version}` !== top) throw new EvolutionError(`artifact refused: top directory '${top}' does not match package.json version ${version}`);
    accept(version);
    rmSync(slotDir, { recursive: true, force: true });
    renameSync(incoming, slotDir);
    fsyncDir(posix.dirname(slotDir));
    return { topDir: top, entries, bytes, version };
  } catch (err) {
    rmSync(incoming, { recursive: true, force: true });
    if (err instanceof EvolutionError) throw err;
    throw new EvolutionError(`artifact could not be unpacked: ${(err as Error).message}`);
  }
}

/** The release's version, from its package.json. */
export function readVersion(dir: string): string {
  let pkg: { version?: unknown };
  try {
    pkg = JSON.parse(readFileSync(posix.join(dir, 'package.json'), 'utf8')) as { version?: unknown };
  } catch {
    throw new EvolutionError('artifact refused: package.json is missing or not JSON');
  }
  if (typeof pkg.version !== 'string' || !pkg.version.trim()) throw new EvolutionError('artifact refused: package.json has no version');
  return pkg.version.trim();
}
