// The skill names in a directory, asked for on every turn (the system prompt lists them). A stat
// of the directory per turn was a visible share of `serve`'s syscalls under load
// (bench/soak.bench.ts), and an mtime check misses a change made within the same timestamp tick
// as the last read (kernels before 6.13 stamp directories only every few milliseconds). So: an inotify watch (fs.watch) marks the list stale on any change in the
// directory, and a turn reads the directory again only then. Where a watch cannot be set (no
// directory yet, an exotic filesystem, the watch limit reached) it falls back to the mtime check.
import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';

export class DirNames {
  private names: string[] | undefined;
  private mtimeMs = NaN;
  private watcher: FSWatcher | undefined;
  private stale = true;
  private watchFailed = false;

  constructor(
    private readonly dir: string,
    private readonly pick: (files: string[]) => string[],
  ) {}

  /** The current names; never throws (an unreadable directory has none). */
  get(): string[] {
    if (this.watcher && !this.stale && this.names) return this.names;
    // Cleared before the read: a change during it marks the list stale again.
    this.stale = false;
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.dir).mtimeMs;
    } catch {
      this.names = undefined;
      return [];
    }
    this.startWatch();
    if (!this.names || mtimeMs !== this.mtimeMs || this.watcher) {
      try {
        this.names = this.pick(readdirSync(this.dir));
      } catch {
        return [];
      }
      this.mtimeMs = mtimeMs;
    }
    return this.names;
  }

  /** Stops watching (tests, shutdown); the next get() falls back to reading. */
  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.stale = true;
  }

  private startWatch(): void {
    if (this.watcher || this.watchFailed) return;
    try {
      // persistent: false — a watch never keeps a one-shot command alive.
      const self = basename(this.dir);
      const w = watch(this.dir, { persistent: false }, (_type, file) => {
        this.stale = true;
        // The directory itself was removed or renamed (inotify names it by its own name): the
        // watch is dead, so drop it; the next read watches whatever is there then.
        if (file === self) drop();
      });
      const drop = (): void => {
        w.close();
        if (this.watcher === w) this.watcher = undefined;
        this.stale = true;
      };
      w.on('error', drop);
      this.watcher = w;
    } catch {
      this.watchFailed = true; // the directory exists (just stat'ed): keep to the mtime check
    }
  }
}
