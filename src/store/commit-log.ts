// Group commit across session files. A busy bot appends to many session files at once (one per
// chat), and an fdatasync per file per turn was most of the cost of durability under load: the
// kernel's journal commit and the device flush per message, helper threads waking per batch, and
// on a Raspberry Pi an SD card page rewritten per message (bench/soak.bench.ts). With a commit
// log, a turn's lines go to its session file as before (a plain write: readable at once, safe
// from a crash of this process) and also to one log file per process; a turn is durable once the
// log is, and one fdatasync of the log covers every turn of a loop turn, whatever their sessions.
// (A loop turn that touched only a few files flushes them directly: no log, nothing to checkpoint.)
// Every 5 seconds (a checkpoint) the session files written meanwhile are flushed, one at a time,
// then that log is deleted. After a power cut, `recoverCommitLogs` appends to each session file
// the logged lines it lost, once: a line already in the file is never written twice.
//
// Log format: for each append, a header line `{"f":<file name>,"i":<inode>,"a":<offset>,"n":<lines>}`
// followed by the n session lines exactly as written to the session file.
import { close, closeSync, fstatSync, fsync, fsyncSync, mkdirSync, open, openSync, readdirSync, readFileSync, readSync, statSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AppendFile } from './jsonl.js';

/** Checkpoint interval: how long a session file may stay unflushed (its lines safe in the log). */
const CHECKPOINT_MS = 5000;
/** Distinct session files in one loop turn's appends before they go through the log. */
const MIN_FILES = 4;
/** A log above this size is checkpointed at once. */
const MAX_LOG_BYTES = 8 * 1024 * 1024;

export interface CommitLogOptions {
  checkpointMs?: number;
  /** Told when a checkpoint fails (its log is kept for recovery). */
  onError?: (err: Error) => void;
}

interface Generation {
  log: AppendFile;
  /** The log's directory entry on disk (a new file's name is not durable before its directory is). */
  named: Promise<void>;
  /** Session files written while this log was current: flushed at its checkpoint. */
  dirty: Set<AppendFile>;
  bytes: number;
}

let instances = 0;

/** The directory of commit logs for a sessions directory. */
export function commitLogDir(sessionsDir: string): string {
  return join(sessionsDir, '.commit-log');
}

export class CommitLog {
  private current: Generation | undefined;
  private seq = 0;
  private pending = '';
  private pendingFiles: AppendFile[] = [];
  private waiting: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checkpointing: Promise<void> | undefined;
  private closed = false;
  private readonly dir: string;
  /** pid, process start (ms, base 36: tells a reused pid apart), instance. */
  private readonly stamp = `${process.pid}.${Math.round(performance.timeOrigin).toString(36)}.${(++instances).toString(36)}`;

  constructor(
    sessionsDir: string,
    private readonly options: CommitLogOptions = {},
  ) {
    this.dir = commitLogDir(sessionsDir);
  }

  /**
   * Records an append already written to `file` (bytes [at, at + text.length) of it, `lines`
   * lines). Resolves when the log holding it is on disk; the session file itself is flushed at
   * the next checkpoint.
   */
  add(file: AppendFile, at: number, text: string, lines: number): Promise<void> {
    if (this.closed) return file.flush();
    this.pending += `{"f":${JSON.stringify(basename(file.path))},"i":${file.ino},"a":${at},"n":${lines}}\n${text}`;
    this.pendingFiles.push(file);
    // Everything added during this loop turn goes out in one write and one fdatasync.
    this.waiting ??= new Promise<void>((resolve, reject) => setImmediate(() => this.writeOut().then(resolve, reject)));
    return this.waiting;
  }

  private writeOut(): Promise<void> {
    this.waiting = undefined;
    const text = this.pending;
    const files = this.pendingFiles;
    this.pending = '';
    this.pendingFiles = [];
    const distinct = new Set(files);
    // A few files (a quiet bot, a single chat): their own flushes cost no more than the log's,
    // and leave nothing to checkpoint; the log pays off only across many files at once.
    if (distinct.size < MIN_FILES) return Promise.all([...distinct].map((f) => f.flush(true))).then(() => undefined);
    let gen: Generation;
    try {
      gen = this.generation();
      gen.log.append(text, gen.bytes);
    } catch (err) {
      // No log: flush the session files themselves (durable all the same, just slower).
      return Promise.all(files.map((f) => f.flush())).then(() => undefined, () => Promise.reject(err));
    }
    gen.bytes += Buffer.byteLength(text);
    for (const f of files) gen.dirty.add(f);
    if (gen.bytes > MAX_LOG_BYTES && !this.checkpointing) void this.checkpoint();
    return Promise.all([gen.named, gen.log.flush(true)]).then(() => undefined);
  }

  private generation(): Generation {
    if (this.current) return this.current;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const log = new AppendFile(join(this.dir, `${this.stamp}.${++this.seq}.log`));
    this.current = { log, named: syncDir(this.dir), dirty: new Set(), bytes: fstatSync(log.fd).size };
    this.current.named.catch(() => undefined); // awaited by the flushes that need it
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.checkpoint();
    }, this.options.checkpointMs ?? CHECKPOINT_MS).unref();
    return this.current;
  }

  /** Flushes the session files of the current log, then deletes it. New appends start a new log. */
  checkpoint(): Promise<void> {
    if (this.checkpointing) return this.checkpointing.then(() => this.checkpoint());
    const gen = this.current;
    if (!gen) return Promise.resolve();
    this.current = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    const run = (async () => {
      try {
        // The log's own last flush first: its waiters must not see it deleted under them.
        await Promise.all([gen.named, gen.log.flush()]);
        // One file at a time: all at once filled libuv's pool and the disk queue, and the turns
        // waiting on the log's own flush behind them paid for it (bench/core.bench.ts p99).
        for (const f of gen.dirty) await f.flush();
        gen.log.close();
        unlinkSync(gen.log.path);
      } catch (err) {
        // Kept: whatever it holds is replayed at the next start.
        gen.log.close();
        this.options.onError?.(err as Error);
      }
    })();
    this.checkpointing = run.finally(() => (this.checkpointing = undefined));
    return this.checkpointing;
  }

  /** Writes what is pending, checkpoints, and stops logging (later appends flush their files). */
  async close(): Promise<void> {
    if (this.waiting) await this.waiting.catch(() => undefined);
    this.closed = true;
    await this.checkpoint();
  }
}

function syncDir(dir: string): Promise<void> {
  return new Promise((resolve, reject) =>
    open(dir, 'r', (err, fd) => {
      if (err) return reject(err);
      fsync(fd, (e) => close(fd, () => (e ? reject(e) : resolve())));
    }),
  );
}

interface LoggedAppend {
  file: string;
  ino: number;
  at: number;
  lines: string[];
}

/** Parses a commit log; a torn tail (a crash mid-write) ends it. */
export function parseCommitLog(text: string): LoggedAppend[] {
  const out: LoggedAppend[] = [];
  const rows = text.split('\n');
  if (!text.endsWith('\n')) rows.pop(); // the torn last line
  let i = 0;
  while (i < rows.length) {
    let h: { f?: unknown; i?: unknown; a?: unknown; n?: unknown };
    try {
      h = JSON.parse(rows[i]!) as typeof h;
    } catch {
      break;
    }
    if (typeof h?.f !== 'string' || !/^[^/\\\0]+\.jsonl$/.test(h.f) || h.f.startsWith('.') || !Number.isSafeInteger(h.n) || (h.n as number) < 1 || !Number.isSafeInteger(h.a) || !Number.isSafeInteger(h.i)) break;
    const n = h.n as number;
    if (i + 1 + n > rows.length) break; // torn inside its lines
    out.push({ file: h.f, ino: h.i as number, at: h.a as number, lines: rows.slice(i + 1, i + 1 + n) });
    i += 1 + n;
  }
  return out;
}

export interface RecoveryReport {
  logs: number;
  /** Session lines appended back (lost by a power cut). */
  restored: number;
  /** Logs that could not be replayed (kept for the next start), with why. */
  failed?: Array<{ log: string; error: string }>;
}

/**
 * Replays the commit logs left by processes that are gone (a crash or a power cut): every logged
 * line missing from its session file is appended to it, in log order, then the log is deleted.
 * Lines already there (the usual case: only a power cut loses them) are left alone. A session file
 * replaced since (another inode) or removed by the operator is not written again.
 */
export function recoverCommitLogs(sessionsDir: string, isAlive: (pid: number, startMs: number) => boolean = ownerAlive): RecoveryReport {
  const dir = commitLogDir(sessionsDir);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => LOG_NAME.test(n));
  } catch {
    return { logs: 0, restored: 0 };
  }
  const report: RecoveryReport = { logs: 0, restored: 0 };
  // Oldest first: a process's logs in sequence order, processes by start time.
  const key = (n: string): number[] => {
    const [, start, instance, seq] = LOG_NAME.exec(n)!;
    return [parseInt(start!, 36), parseInt(instance!, 36), Number(seq)];
  };
  names.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!;
  });
  for (const name of names) {
    if (isAlive(Number(name.split('.')[0]), key(name)[0]!)) continue;
    const path = join(dir, name);
    try {
      const appends = parseCommitLog(readFileSync(path, 'utf8'));
      const bySession = new Map<string, LoggedAppend[]>();
      for (const a of appends) bySession.set(a.file, [...(bySession.get(a.file) ?? []), a]);
      for (const [file, list] of bySession) report.restored += restore(join(sessionsDir, file), list);
      unlinkSync(path);
      report.logs++;
    } catch (err) {
      // One unreadable log or session file must not keep the process from starting.
      (report.failed ??= []).push({ log: path, error: (err as Error).message });
    }
  }
  return report;
}

/** Appends the logged lines the session file lacks; returns how many. */
function restore(path: string, list: LoggedAppend[]): number {
  let st: { ino: number; size: number } | undefined;
  try {
    st = statSync(path);
  } catch {
    st = undefined;
  }
  const created = list[0]!.at === 0;
  if (!st && !created) return 0; // removed by the operator: not resurrected
  if (st && !list.some((a) => a.ino === st!.ino)) return 0; // replaced since: not ours any more
  const mine = st ? list.filter((a) => a.ino === st!.ino) : list;
  // Lines already present in the region we wrote (and anything appended after it).
  const from = Math.max(0, Math.min(st?.size ?? 0, ...mine.map((a) => a.at)) - 1);
  const present = new Set(st ? readFrom(path, from).split('\n') : []);
  const missing = mine.flatMap((a) => a.lines).filter((l) => l && !present.has(l));
  if (missing.length === 0) return 0;
  const out = new AppendFile(path);
  try {
    out.append(missing.join('\n') + '\n');
    fsyncSync(out.fd); // on disk before the log that held them is deleted
    return missing.length;
  } finally {
    out.close();
  }
}

function readFrom(path: string, from: number): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.max(0, size - from));
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, from + off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** `<pid>.<process start ms, base 36>.<instance>.<seq>.log` */
const LOG_NAME = /^(?:\d+)\.([0-9a-z]+)\.([0-9a-z]+)\.(\d+)\.log$/;

/**
 * Whether the process that wrote a log still runs: its pid exists and (where /proc tells) it
 * started when the log's writer did. A pid reused after a restart (a container's serve is often
 * pid 1 every time) is not the writer.
 */
function ownerAlive(pid: number, startMs: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return Math.abs(performance.timeOrigin - startMs) < 2;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const started = processStartMs(pid);
  return started === undefined || Math.abs(started - startMs) < 5000;
}

/** A process's start time from /proc (Linux); undefined elsewhere. */
function processStartMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(btime)) return undefined;
    return btime * 1000 + (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}
