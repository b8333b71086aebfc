// A slot's content, two ways. The tree listing (`updates/<slot>.tree.json`, written at stage)
// holds every entry's path, type, mode, size and SHA-256 (or link target): its own SHA-256 is the
// manifest's `passive_binary_sha256`, so one hash pins the whole slot. The fingerprint
// (`updates/<slot>.fingerprint`, written at activation after a full re-hash) holds each entry's
// inode, size, mtime and ctime (ms, sub-microsecond): the launcher compares lstat() against it on every
// start instead of re-hashing (ctime cannot be set from user space, so a content change cannot
// hide behind a restored mtime; a changed directory ctime shows an added or removed entry).
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { EvolutionError } from '../errors.js';
import { sha256Hex } from '../fs-util.js';

export type TreeEntry =
  | { path: string; type: 'dir'; mode: number }
  | { path: string; type: 'file'; mode: number; size: number; sha256: string }
  | { path: string; type: 'symlink'; target: string };

/** Walks `root` in sorted order; symlinks must resolve inside `root`. */
export function listTree(root: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  const realRoot = realpathSync(root);
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const abs = join(dir, name);
      const rel = relative(root, abs).split(sep).join('/');
      const st = lstatSync(abs);
      if (st.isDirectory()) {
        out.push({ path: rel, type: 'dir', mode: st.mode & 0o7777 });
        walk(abs);
      } else if (st.isFile()) {
        out.push({ path: rel, type: 'file', mode: st.mode & 0o7777, size: st.size, sha256: sha256Hex(readFileSync(abs)) });
      } else if (st.isSymbolicLink()) {
        const target = readlinkSync(abs);
        let real: string;
        try {
          real = realpathSync(abs);
        } catch {
          throw new EvolutionError(`slot entry '${rel}' is a dangling symbolic link`);
        }
        if (real !== realRoot && !real.startsWith(realRoot + sep)) throw new EvolutionError(`slot entry '${rel}' links outside the slot`);
        out.push({ path: rel, type: 'symlink', target });
      } else throw new EvolutionError(`slot entry '${rel}' is not a regular file, directory or symbolic link`);
    }
  };
  walk(root);
  return out;
}

export function treeText(entries: TreeEntry[]): string {
  return entries.map((e) => JSON.stringify(e)).join('\n') + '\n';
}

/** Re-hashes the slot and compares it with the listing's text (full verification). */
export function verifyTree(root: string, expectedText: string): void {
  const actual = treeText(listTree(root));
  if (actual === expectedText) return;
  const want = expectedText.split('\n');
  const got = actual.split('\n');
  for (let i = 0; i < Math.max(want.length, got.length); i++) {
    if (want[i] !== got[i]) {
      const path = (s: string | undefined): string => {
        try {
          return s ? (JSON.parse(s) as { path: string }).path : '(end)';
        } catch {
          return '(garbage)';
        }
      };
      throw new EvolutionError(`staged slot content differs from its listing at '${path(got[i]) !== '(end)' ? path(got[i]) : path(want[i])}'`);
    }
  }
}

const FP_MAGIC = 'rusty-pinch-fingerprint v1';

export interface FingerprintHeader {
  slot: string;
  tree_sha256: string;
  version: string;
}

/**
 * `<magic> slot=… tree_sha256=… version=…`, then `<d|f|l> ino size mtimeMs ctimeMs path` per
 * entry (the slot root first, then the tree listing order).
 */
export function fingerprintText(root: string, entries: Array<{ path: string; type: string }>, header: FingerprintHeader): string {
  const lines = [`${FP_MAGIC} slot=${header.slot} tree_sha256=${header.tree_sha256} version=${header.version}`];
  const isDep = (e: { path: string; type: string }): boolean => e.type !== 'dir' && e.path.startsWith('node_modules/');
  const line = (e: { path: string; type: string }): string => {
    const st = lstatSync(e.path ? join(root, e.path) : root);
    return `${e.type[0]} ${st.ino} ${st.size} ${st.mtimeMs} ${st.ctimeMs} ${e.path}`;
  };
  // Every directory and our own files first; dependency files after DEPS_MARK (the quick check stops there).
  const all = [{ path: '', type: 'dir' }, ...entries];
  for (const e of all) if (!isDep(e)) lines.push(line(e));
  lines.push(DEPS_MARK);
  for (const e of all) if (isDep(e)) lines.push(line(e));
  return lines.join('\n') + '\n';
}

const DEPS_MARK = '# dependency files';

export function parseFingerprintHeader(text: string): FingerprintHeader | undefined {
  const nl = text.indexOf('\n');
  const first = nl < 0 ? text : text.slice(0, nl);
  const m = /^rusty-pinch-fingerprint v1 slot=(blue|green) tree_sha256=([0-9a-f]{64}) version=(\S*)$/.exec(first);
  return m ? { slot: m[1]!, tree_sha256: m[2]!, version: m[3]! } : undefined;
}

/**
 * The launcher's check: lstat each recorded entry, returning the first difference. `full: false`
 * skips the files (not the directories) under node_modules/: every directory is still checked,
 * so an added, removed or renamed file anywhere shows, and every file of our own code is checked;
 * only an in-place edit of a dependency file waits for the next full check (serve starts, the
 * apply health check, every apply's re-hash). That keeps a short command's start within ~1 ms.
 */
export function checkFingerprint(root: string, text: string, full = true): string | undefined {
  const lines = text.split('\n');
  if (!lines[0]?.startsWith(FP_MAGIC)) return 'fingerprint file is not valid';
  const base = root.endsWith('/') ? root : root + '/';
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    if (line === DEPS_MARK) {
      if (!full) break;
      continue;
    }
    const m = /^([dfl]) (\d+) (\d+) ([\d.]+) ([\d.]+) (.*)$/.exec(line);
    if (!m) return `fingerprint line ${i + 1} is not valid`;
    const p = m[6]!;
    let st;
    try {
      st = lstatSync(p ? base + p : root); // number stats: times as float ms (sub-µs), half the cost of bigint
    } catch {
      return `slot entry '${p}' is missing`;
    }
    if (String(st.ino) !== m[2] || String(st.size) !== m[3] || String(st.mtimeMs) !== m[4] || String(st.ctimeMs) !== m[5]) return `slot entry '${p || '.'}' changed since activation`;
  }
  return undefined;
}
