// Group commit across files: the fdatasyncs asked for during one event-loop turn go to one
// helper thread as one batch, and their callers resume on one answer. With libuv's pool each
// file's fdatasync was its own job, waking a pool thread and then the event loop once per file:
// under load (200 chats, a session file each) those wake-ups cost the event loop about as much
// CPU as the rest of a turn (bench/soak.bench.ts). Each helper runs one batch at a time; what is
// asked meanwhile joins the next. Errors are per file, as fdatasync reports them. A few files at
// once (a CLI turn, a quiet bot) keep using libuv's pool: helpers start only under concurrent
// load, and stop after a quiet spell (each one is a small V8 isolate, ~4 MiB).
import { fdatasync } from 'node:fs';
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort } = require('node:worker_threads');
const { fdatasyncSync } = require('node:fs');
parentPort.on('message', (fds) => {
  const errors = fds.map((fd) => { try { fdatasyncSync(fd); return null; } catch (e) { return { code: e.code, message: e.message }; } });
  parentPort.postMessage(errors);
});`;

interface Waiter {
  fd: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Helper {
  worker: Worker;
  /** The batch it is syncing; undefined when idle. */
  batch: { waiters: Waiter[]; index: Map<number, number> } | undefined;
}

/** Helper threads at most (fdatasyncs of different files overlap on the device; 4, like libuv's pool:
 * with 2 the soak was bound by flush latency, its event loop idle a third of the time). */
const MAX_HELPERS = 4;
/** Distinct files in one turn of the loop before helpers are worth starting. */
const MIN_BATCH = 4;
/** Helpers without work for this long are stopped. */
const IDLE_MS = 10_000;
let idleTimer: NodeJS.Timeout | undefined;
const helpers: Helper[] = [];
let queued: Waiter[] = [];
let scheduled = false;

function start(): Helper {
  const h: Helper = { worker: new Worker(WORKER, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 } }), batch: undefined };
  h.worker.on('message', (errors: Array<{ code?: string; message: string } | null>) => {
    const batch = h.batch;
    h.batch = undefined;
    for (const b of batch?.waiters ?? []) {
      const e = errors[batch!.index.get(b.fd)!];
      if (!e) b.resolve();
      else b.reject(Object.assign(new Error(e.message), { code: e.code }));
    }
    send();
  });
  const failed = (err: Error): void => {
    const batch = h.batch;
    h.batch = undefined;
    const i = helpers.indexOf(h);
    if (i >= 0) helpers.splice(i, 1);
    for (const b of batch?.waiters ?? []) b.reject(err);
    send();
  };
  h.worker.on('error', failed);
  h.worker.on('exit', () => failed(new Error('fdatasync helper thread exited')));
  helpers.push(h);
  return h;
}

/** One libuv job per file (light load, or no helper thread could start). */
function direct(): void {
  for (const w of queued.splice(0)) fdatasync(w.fd, (err) => (err ? w.reject(err) : w.resolve()));
}

function send(): void {
  if (queued.length > 0 && helpers.length === 0 && new Set(queued.map((w) => w.fd)).size < MIN_BATCH) {
    direct();
    return;
  }
  if (queued.length > 0) {
    const idle = helpers.filter((h) => !h.batch);
    if (idle.length === 0 && helpers.length < MAX_HELPERS) {
      try {
        idle.push(start());
      } catch {
        if (helpers.length === 0) return direct();
      }
    }
    if (idle.length > 0) {
      // Split by file among the idle helpers.
      const byFd = new Map<number, Waiter[]>();
      for (const w of queued) byFd.set(w.fd, [...(byFd.get(w.fd) ?? []), w]);
      queued = [];
      const fds = [...byFd.keys()];
      const per = Math.ceil(fds.length / idle.length);
      idle.forEach((h, n) => {
        const mine = fds.slice(n * per, (n + 1) * per);
        if (mine.length === 0) return;
        h.batch = { waiters: mine.flatMap((fd) => byFd.get(fd)!), index: new Map(mine.map((fd, i) => [fd, i])) };
        h.worker.ref(); // a batch in flight keeps the process alive until it is on disk
        h.worker.postMessage(mine);
      });
    }
  }
  for (const h of helpers) if (!h.batch) h.worker.unref(); // idle: never keeps the process alive
  if (helpers.length > 0 && helpers.every((h) => !h.batch)) {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(stopIdle, IDLE_MS).unref();
  }
}

function stopIdle(): void {
  for (const h of [...helpers]) {
    if (h.batch) continue;
    helpers.splice(helpers.indexOf(h), 1);
    h.worker.removeAllListeners('exit');
    void h.worker.terminate();
  }
}

/** fdatasync(fd) in the next batch; resolves when it is on disk. */
export function syncInBatch(fd: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    queued.push({ fd, resolve, reject });
    if (!scheduled) {
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        send();
      });
    }
  });
}
