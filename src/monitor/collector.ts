// The monitor's state across ticks: which pid is watched (fixed or discovered), the CPU
// baseline, cached storage figures (refreshed every N ticks) and short cpu/rss histories.
import { cpuPercent, sampleHost, sampleProcess, type HostSample } from './proc-sample.js';
import { discover, labelFor, type Candidate } from './discover.js';
import { dirSize, filesystemUsage, type DirSize, type FsUsage } from './storage.js';
import { readTelemetrySummary, type TelemetrySummary } from './telemetry-summary.js';

export interface MonitorConfig {
  pid?: number;
  match: string;
  intervalMs: number;
  storageRefreshTicks: number;
  dataDir: string;
  workspace: string;
  telemetryFile: string;
  provider: string;
  model: string;
  procRoot?: string;
  historySize?: number;
}

export interface ProcessView {
  pid: number;
  label: string;
  chosen: string;
  candidates: Array<{ pid: number; label: string }>;
  state: string;
  cpu_percent: number | null;
  rss_bytes: number | null;
  vms_bytes: number | null;
  read_bytes: number | null;
  write_bytes: number | null;
  fd_count: number | null;
  threads: number | null;
  uptime_secs: number | null;
}

export interface StorageView {
  data_dir: string;
  workspace: string;
  data_dir_bytes: number | null;
  data_dir_complete: boolean;
  workspace_bytes: number | null;
  workspace_complete: boolean;
  filesystem: { total_bytes: number; used_bytes: number; avail_bytes: number; use_percent: number; path: string } | null;
  refreshed_tick: number;
}

export interface Snapshot {
  time: number;
  tick: number;
  interval_ms: number;
  match: string;
  app: { provider: string; model: string; telemetry_file: string; telemetry: TelemetrySummary };
  process: ProcessView | null;
  /** Why there is no process (set when `process` is null). */
  process_missing: string | null;
  host: {
    loadavg: [number, number, number] | null;
    cpu_cores: number | null;
    memory: { total_bytes: number | null; available_bytes: number | null; used_bytes: number | null };
    swap: { total_bytes: number | null; free_bytes: number | null; used_bytes: number | null };
  };
  storage: StorageView | null;
  history: { cpu: Array<number | null>; rss: Array<number | null> };
}

const nul = <T>(v: T | undefined): T | null => (v === undefined ? null : v);
const diff = (a: number | undefined, b: number | undefined): number | null => (a === undefined || b === undefined ? null : Math.max(0, a - b));

export class MonitorCollector {
  private pid: number | undefined;
  private label = '';
  private reason = '';
  private candidates: Candidate[] = [];
  private missing = '';
  private baseline: { pid: number; procTicks: number; totalTicks?: number } | undefined;
  private storage: StorageView | null = null;
  private tickNo = 0;
  private cpuHist: Array<number | null> = [];
  private rssHist: Array<number | null> = [];

  constructor(private readonly cfg: MonitorConfig) {}

  private get root(): string {
    return this.cfg.procRoot ?? '/proc';
  }

  /** Picks the pid (fixed or discovered); resets the baseline and history on a change. */
  private async resolvePid(): Promise<void> {
    if (this.cfg.pid !== undefined) {
      if (this.pid === undefined) {
        this.pid = this.cfg.pid;
        this.reason = 'given with --pid';
      }
      this.label = (await labelFor(this.cfg.pid, this.cfg.match, this.root)) ?? this.label;
      return;
    }
    const d = await discover({ match: this.cfg.match, procRoot: this.root });
    this.candidates = d.candidates;
    if (d.chosen?.pid !== this.pid) this.resetProcess();
    this.pid = d.chosen?.pid;
    this.label = d.chosen?.label ?? '';
    this.reason = d.reason;
    if (!d.chosen) this.missing = d.reason;
  }

  private resetProcess(): void {
    this.baseline = undefined;
    this.cpuHist = [];
    this.rssHist = [];
  }

  /** Takes a CPU baseline only, so the next tick can report cpu% (used before the first tick). */
  async prime(): Promise<void> {
    await this.resolvePid();
    if (this.pid === undefined) return;
    const [host, proc] = await Promise.all([sampleHost(this.root), sampleProcess(this.pid, this.root)]);
    if (proc) this.baseline = { pid: proc.pid, procTicks: proc.cpuTicks, totalTicks: host.totalTicks };
  }

  async tick(): Promise<Snapshot> {
    const tick = this.tickNo++;
    const host = await sampleHost(this.root);
    // Rediscover when nothing is watched, and every storage refresh (a serve that started
    // after a repl was chosen takes over).
    const every = Math.max(1, this.cfg.storageRefreshTicks);
    if (this.pid === undefined || (this.cfg.pid === undefined && tick > 0 && tick % every === 0)) await this.resolvePid();
    let proc = this.pid === undefined ? undefined : await sampleProcess(this.pid, this.root, host.uptimeSecs);
    if (!proc && this.pid !== undefined) {
      // Gone (or unreadable): rediscover unless the pid was fixed.
      this.resetProcess();
      if (this.cfg.pid === undefined) {
        this.pid = undefined;
        await this.resolvePid();
        proc = this.pid === undefined ? undefined : await sampleProcess(this.pid, this.root, host.uptimeSecs);
      } else this.missing = `pid ${this.cfg.pid} not found`;
    }
    let processView: ProcessView | null = null;
    if (proc) {
      const cur = { procTicks: proc.cpuTicks, totalTicks: host.totalTicks };
      const cpu = this.baseline && this.baseline.pid === proc.pid ? cpuPercent(this.baseline, cur, host.cores) : undefined;
      this.baseline = { pid: proc.pid, ...cur };
      const size = this.cfg.historySize ?? 60;
      this.cpuHist = [...this.cpuHist, nul(cpu)].slice(-size);
      this.rssHist = [...this.rssHist, nul(proc.rssBytes)].slice(-size);
      processView = {
        pid: proc.pid,
        label: this.label || proc.name,
        chosen: this.reason,
        candidates: this.candidates.map((c) => ({ pid: c.pid, label: c.label })),
        state: proc.state,
        cpu_percent: nul(cpu),
        rss_bytes: nul(proc.rssBytes),
        vms_bytes: nul(proc.vmsBytes),
        read_bytes: nul(proc.readBytes),
        write_bytes: nul(proc.writeBytes),
        fd_count: nul(proc.fdCount),
        threads: nul(proc.threads),
        uptime_secs: proc.uptimeSecs === undefined ? null : Math.floor(proc.uptimeSecs),
      };
    }
    const refresh = this.storage === null || tick % Math.max(1, this.cfg.storageRefreshTicks) === 0;
    const [storage, telemetry] = await Promise.all([refresh ? this.readStorage(tick) : Promise.resolve(this.storage), readTelemetrySummary(this.cfg.telemetryFile)]);
    this.storage = storage;
    return {
      time: Math.floor(Date.now() / 1000),
      tick,
      interval_ms: this.cfg.intervalMs,
      match: this.cfg.match,
      app: { provider: this.cfg.provider, model: this.cfg.model, telemetry_file: this.cfg.telemetryFile, telemetry },
      process: processView,
      process_missing: processView ? null : this.missing || `pid ${this.pid ?? '?'} not found`,
      host: hostView(host),
      storage,
      history: { cpu: [...this.cpuHist], rss: [...this.rssHist] },
    };
  }

  private async readStorage(tick: number): Promise<StorageView> {
    // Bounded so a huge tree cannot stall a tick: half the interval, within 100..1000 ms.
    const timeBudgetMs = Math.min(1000, Math.max(100, Math.floor(this.cfg.intervalMs / 2)));
    const [data, ws, fs] = await Promise.all([dirSize(this.cfg.dataDir, { timeBudgetMs }), dirSize(this.cfg.workspace, { timeBudgetMs }), filesystemUsage(this.cfg.dataDir)]);
    return storageView(this.cfg, data, ws, fs, tick);
  }
}

function hostView(h: HostSample): Snapshot['host'] {
  return {
    loadavg: nul(h.loadavg),
    cpu_cores: nul(h.cores),
    memory: { total_bytes: nul(h.memTotalBytes), available_bytes: nul(h.memAvailableBytes), used_bytes: diff(h.memTotalBytes, h.memAvailableBytes) },
    swap: { total_bytes: nul(h.swapTotalBytes), free_bytes: nul(h.swapFreeBytes), used_bytes: diff(h.swapTotalBytes, h.swapFreeBytes) },
  };
}

function storageView(cfg: MonitorConfig, data: DirSize, ws: DirSize, fs: FsUsage | undefined, tick: number): StorageView {
  return {
    data_dir: cfg.dataDir,
    workspace: cfg.workspace,
    data_dir_bytes: data.bytes,
    data_dir_complete: data.complete,
    workspace_bytes: ws.bytes,
    workspace_complete: ws.complete,
    filesystem: fs ? { total_bytes: fs.totalBytes, used_bytes: fs.usedBytes, avail_bytes: fs.availBytes, use_percent: fs.usePercent, path: fs.path } : null,
    refreshed_tick: tick,
  };
}
