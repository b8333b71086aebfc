// Durable whole-file writes (temp file, fsync, rename, fsync dir) and tolerant JSON reads:
// a corrupt state file is moved aside with a warning instead of bricking the CLI.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { emitWarning } from '../observe/index.js';

let tmpSeq = 0;

/** Writes `data` to `path` so readers see either the old or the new file, never a torn one. */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: { fsync?: boolean; mode?: number } = {}): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${++tmpSeq}.tmp`);
  const fd = openSync(tmp, 'w', options.mode ?? 0o644);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    if (options.fsync !== false) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  if (options.fsync !== false) fsyncDir(dir);
}

export function writeJsonAtomic(path: string, value: unknown, options: { fsync?: boolean; mode?: number } = {}): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n', options);
}

/**
 * writeFileAtomic with its file operations on libuv's pool: the fsyncs (milliseconds on a busy
 * disk) never hold the event loop. Same guarantees; a temp file left by a failure is removed.
 */
export async function writeFileAtomicAsync(path: string, data: string | Uint8Array, options: { fsync?: boolean; mode?: number } = {}): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${++tmpSeq}.tmp`);
  const file = await open(tmp, 'w', options.mode ?? 0o644);
  try {
    try {
      await file.writeFile(data);
      if (options.fsync !== false) await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  if (options.fsync !== false) await fsyncDirAsync(dir);
}

async function fsyncDirAsync(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  }
}

export type JsonReadResult<T> = { state: 'missing' } | { state: 'ok'; value: T } | { state: 'corrupt'; movedTo: string; error: string };

/**
 * Reads a JSON state file. Missing → `missing`. Unparsable (or rejected by `validate`) → the
 * file is renamed to `<path>.corrupt-<epoch ms>`, a warning is emitted, and `corrupt` returned.
 */
export function readJsonFile<T>(path: string, what: string, validate?: (value: unknown) => T): JsonReadResult<T> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    throw err;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return { state: 'ok', value: validate ? validate(parsed) : (parsed as T) };
  } catch (err) {
    const movedTo = `${path}.corrupt-${Date.now()}`;
    try {
      renameSync(path, movedTo);
    } catch {
      // Someone else moved it already: fine, we rebuild either way.
    }
    const error = err instanceof Error ? err.message : String(err);
    emitWarning(`${what} file is corrupt; moved aside and rebuilt`, { path, moved_to: movedTo, error });
    return { state: 'corrupt', movedTo, error };
  }
}
