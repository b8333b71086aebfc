// Live mode: redraws in place on the alternate screen with the cursor hidden, and restores the
// terminal on every way out (q, Ctrl-C in raw mode, SIGINT, SIGTERM, a crash, a closed stdout).
import { MonitorCollector, type MonitorConfig } from './collector.js';
import { renderSnapshot } from './render.js';
import { snapshotJson } from './json.js';

export const ENTER_SCREEN = '\x1b[?1049h\x1b[?25l';
export const LEAVE_SCREEN = '\x1b[?25h\x1b[?1049l';
const HOME = '\x1b[H';
const CLEAR_LINE = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';

export interface LiveStreams {
  stdout: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}

function clip(line: string, cols: number | undefined): string {
  if (!cols || cols < 10) return line;
  const chars = [...line];
  return chars.length > cols ? chars.slice(0, cols - 1).join('') + '…' : line;
}

export async function runLive(cfg: MonitorConfig, opts: { json: boolean }, io: LiveStreams = { stdout: process.stdout, stdin: process.stdin }): Promise<number> {
  const collector = new MonitorCollector(cfg);
  const { stdout, stdin } = io;
  let stopped = false;
  let wake: (() => void) | undefined;
  let screen = false;
  let raw = false;
  let broken = false; // stdout closed (e.g. piped into head): stop writing

  const restore = () => {
    if (raw) {
      raw = false;
      try {
        stdin.setRawMode(false);
      } catch {
        // stdin already gone
      }
      stdin.pause();
    }
    if (screen && !broken) {
      screen = false;
      try {
        stdout.write(LEAVE_SCREEN);
      } catch {
        // stdout closed
      }
    }
  };
  const stop = () => {
    stopped = true;
    wake?.();
  };
  // A second signal while a tick is stuck: restore the terminal and leave at once.
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) {
      restore();
      process.exit(130);
    }
    stop();
  };
  const onKey = (d: Buffer) => {
    const s = d.toString('utf8');
    if (s.includes('q') || s.includes('Q') || s.includes('\x03')) stop();
  };
  const onExit = () => restore();
  const onOutError = () => {
    broken = true;
    stop();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopped) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
  stdout.on('error', onOutError);
  try {
    // Escape codes only for a terminal: piped, each snapshot is plain text after a blank line.
    const tty = stdout.isTTY === true;
    if (!opts.json && tty) {
      stdout.write(ENTER_SCREEN);
      screen = true;
    }
    if (stdin.isTTY) {
      stdin.setRawMode(true);
      raw = true;
      stdin.on('data', onKey);
      stdin.resume();
    }
    await collector.prime();
    await sleep(Math.min(200, cfg.intervalMs));
    while (!stopped) {
      const snap = await collector.tick();
      if (stopped) break;
      if (broken) break;
      if (opts.json) stdout.write(JSON.stringify(snapshotJson(snap)) + '\n');
      else {
        const cols = stdout.isTTY && stdout.columns > 0 ? stdout.columns : undefined;
        const width = Math.max(10, Math.min(60, (cols ?? 80) - 30));
        const lines = renderSnapshot(snap, { live: true, sparkWidth: width });
        if (tty) stdout.write(HOME + lines.map((l) => clip(l, cols) + CLEAR_LINE).join('\n') + '\n' + CLEAR_BELOW);
        else stdout.write(lines.join('\n') + '\n\n');
      }
      await sleep(cfg.intervalMs);
    }
  } finally {
    restore();
    stdin.off('data', onKey);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
    if (!broken) stdout.off('error', onOutError);
  }
  if (!opts.json && !broken) stdout.write('monitor stopped\n');
  return 0;
}
