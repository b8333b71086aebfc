// Small file helpers shared by the evolution parts: atomic writes (tmp + fsync + rename),
// SHA-256 of files, and the timestamp format every evolution record stores.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, createReadStream } from 'node:fs';
import { dirname } from 'node:path';
import { nodeCrypto } from './lazy-crypto.js';

/** Writes `text` to `path` via `tmp` (default `<path>.tmp`): a crash leaves the old or the new file. */
export function writeFileAtomic(path: string, text: string | Buffer, tmp = `${path}.tmp`): void {
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, typeof text === 'string' ? Buffer.from(text) : text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  }
}

export function sha256Hex(data: string | Buffer): string {
  return nodeCrypto().createHash('sha256').update(data).digest('hex');
}

export function sha256FileSync(path: string): string {
  return sha256Hex(readFileSync(path));
}

/** Streams the file (artifacts can be large). */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = nodeCrypto().createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** RFC 3339 UTC with milliseconds (`2026-02-20T03:04:05.123Z`); hashes cover the stored string. */
export function nowStamp(): string {
  return new Date().toISOString();
}

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT';
}
