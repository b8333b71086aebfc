// Storage panel: directory sizes (lstat walk, symlinks never followed, bounded by an entry
// count and a time budget so a huge tree cannot stall a tick) and filesystem usage via statfs.
import { lstat, opendir, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface DirSize {
  /** Sum of lstat sizes of everything below (files, symlinks themselves; not directories). */
  bytes: number;
  entries: number;
  /** False when the walk stopped at a bound: `bytes` is then a lower bound. */
  complete: boolean;
  /** The directory does not exist (size 0, as the original). */
  missing: boolean;
}

export interface WalkBounds {
  maxEntries?: number;
  timeBudgetMs?: number;
}

export async function dirSize(root: string, bounds: WalkBounds = {}): Promise<DirSize> {
  const maxEntries = bounds.maxEntries ?? 200_000;
  const deadline = Date.now() + (bounds.timeBudgetMs ?? 500);
  const out: DirSize = { bytes: 0, entries: 0, complete: true, missing: false };
  try {
    const st = await lstat(root);
    if (!st.isDirectory()) {
      out.bytes = st.size;
      out.entries = 1;
      return out;
    }
  } catch {
    out.missing = true;
    return out;
  }
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let handle;
    try {
      handle = await opendir(dir, { bufferSize: 128 });
    } catch {
      continue; // unreadable directory: skip, the rest still counts
    }
    try {
      for await (const ent of handle) {
        if (out.entries >= maxEntries || Date.now() > deadline) {
          out.complete = false;
          return out;
        }
        out.entries++;
        const p = join(dir, ent.name);
        if (ent.isDirectory()) {
          stack.push(p);
          continue;
        }
        try {
          out.bytes += (await lstat(p)).size;
        } catch {
          // vanished between readdir and lstat
        }
      }
    } catch {
      // directory removed mid-walk
    }
  }
  return out;
}

export interface FsUsage {
  totalBytes: number;
  usedBytes: number;
  availBytes: number;
  /** df's Use%: used / (used + avail), rounded up. */
  usePercent: number;
  /** The path statfs was called on (the nearest existing ancestor). */
  path: string;
}

/** statfs of `path`, or of its nearest existing ancestor; undefined when unavailable. */
export async function filesystemUsage(path: string): Promise<FsUsage | undefined> {
  let p = path;
  for (let i = 0; i < 64; i++) {
    try {
      const s = await statfs(p);
      const total = s.blocks * s.bsize;
      const used = (s.blocks - s.bfree) * s.bsize;
      const avail = s.bavail * s.bsize;
      const denom = used + avail;
      return { totalBytes: total, usedBytes: used, availBytes: avail, usePercent: denom > 0 ? Math.ceil((used / denom) * 100) : 0, path: p };
    } catch {
      const parent = dirname(p);
      if (parent === p) return undefined;
      p = parent;
    }
  }
  return undefined;
}
