// Reads one process and the host from /proc (root injectable for tests). A file that is
// missing, unreadable or garbage leaves its fields undefined; only a missing/garbled
// /proc/<pid>/stat means "process not found".
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseLoadavg, parseMeminfo, parsePidIo, parsePidStat, parsePidStatus, parseProcStat, parseStatm, parseUptime } from './proc-parse.js';

/** USER_HZ: fixed at 100 for userspace on every Linux architecture Node runs on. */
export const CLOCK_TICKS_PER_SEC = 100;

export interface ProcessSample {
  pid: number;
  ppid: number;
  state: string;
  name: string;
  cpuTicks: number;
  rssBytes?: number;
  vmsBytes?: number;
  readBytes?: number;
  writeBytes?: number;
  fdCount?: number;
  threads?: number;
  uptimeSecs?: number;
  startTicks: number;
}

export interface HostSample {
  totalTicks?: number;
  cores?: number;
  loadavg?: [number, number, number];
  memTotalBytes?: number;
  memAvailableBytes?: number;
  swapTotalBytes?: number;
  swapFreeBytes?: number;
  uptimeSecs?: number;
}

async function read(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Host counters: total jiffies and cores (/proc/stat), loadavg, meminfo, uptime. */
export async function sampleHost(procRoot = '/proc'): Promise<HostSample> {
  const [stat, loadavg, meminfo, uptime] = await Promise.all([read(join(procRoot, 'stat')), read(join(procRoot, 'loadavg')), read(join(procRoot, 'meminfo')), read(join(procRoot, 'uptime'))]);
  const ps = stat === undefined ? {} : parseProcStat(stat);
  const mem = meminfo === undefined ? {} : parseMeminfo(meminfo);
  return {
    totalTicks: ps.totalTicks,
    cores: ps.cores,
    loadavg: loadavg === undefined ? undefined : parseLoadavg(loadavg),
    memTotalBytes: mem.totalBytes,
    memAvailableBytes: mem.availableBytes,
    swapTotalBytes: mem.swapTotalBytes,
    swapFreeBytes: mem.swapFreeBytes,
    uptimeSecs: uptime === undefined ? undefined : parseUptime(uptime),
  };
}

/** One process; undefined when it does not exist (or its stat is unreadable garbage). */
export async function sampleProcess(pid: number, procRoot = '/proc', hostUptimeSecs?: number): Promise<ProcessSample | undefined> {
  const dir = join(procRoot, String(pid));
  const statText = await read(join(dir, 'stat'));
  const stat = statText === undefined ? undefined : parsePidStat(statText);
  if (!stat) return undefined;
  const [statusText, statmText, ioText, fdCount] = await Promise.all([
    read(join(dir, 'status')),
    read(join(dir, 'statm')),
    read(join(dir, 'io')),
    readdir(join(dir, 'fd')).then(
      (e) => e.length,
      () => undefined,
    ),
  ]);
  const status = statusText === undefined ? {} : parsePidStatus(statusText);
  const statm = statmText === undefined ? {} : parseStatm(statmText);
  const io = ioText === undefined ? {} : parsePidIo(ioText);
  const startSecs = stat.startTicks / CLOCK_TICKS_PER_SEC;
  return {
    pid,
    ppid: stat.ppid,
    state: stat.state,
    name: status.name ?? stat.comm,
    cpuTicks: stat.cpuTicks,
    rssBytes: status.rssBytes ?? statm.rssBytes,
    vmsBytes: status.vmsBytes ?? statm.vmsBytes ?? (stat.vsizeBytes || undefined),
    readBytes: io.readBytes,
    writeBytes: io.writeBytes,
    fdCount,
    threads: status.threads ?? (stat.threads || undefined),
    uptimeSecs: hostUptimeSecs !== undefined && hostUptimeSecs >= startSecs ? hostUptimeSecs - startSecs : undefined,
    startTicks: stat.startTicks,
  };
}

/**
 * CPU% of one core-equivalent between two samples (the original's formula:
 * Δprocess / Δtotal × 100 × cores, clamped to 0..999.99). Undefined when not computable.
 */
export function cpuPercent(prev: { procTicks: number; totalTicks?: number }, cur: { procTicks: number; totalTicks?: number }, cores: number | undefined): number | undefined {
  if (prev.totalTicks === undefined || cur.totalTicks === undefined) return undefined;
  const dTotal = cur.totalTicks - prev.totalTicks;
  const dProc = cur.procTicks - prev.procTicks;
  if (dTotal <= 0) return dProc <= 0 ? 0 : undefined;
  if (dProc < 0) return undefined;
  const p = (dProc / dTotal) * 100 * Math.max(1, cores ?? 1);
  return Math.round(Math.min(999.99, Math.max(0, p)) * 100) / 100;
}
