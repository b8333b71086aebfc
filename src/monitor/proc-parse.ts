// Pure parsers for the /proc text formats the monitor reads. Every parser is defensive:
// garbage yields `undefined` fields (shown as n/a), never an exception.

export interface PidStat {
  comm: string;
  state: string;
  ppid: number;
  /** utime + stime in clock ticks. */
  cpuTicks: number;
  threads: number;
  /** Start time in clock ticks after boot (field 22). */
  startTicks: number;
  vsizeBytes: number;
}

function num(s: string | undefined): number | undefined {
  if (s === undefined || !/^-?\d+(\.\d+)?$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

function nonNeg(s: string | undefined): number | undefined {
  const n = num(s);
  return n !== undefined && n >= 0 ? n : undefined;
}

/**
 * `/proc/<pid>/stat`. The comm sits in parentheses and may itself hold spaces and
 * parentheses, so fields are taken after the LAST `)`.
 */
export function parsePidStat(text: string): PidStat | undefined {
  if (typeof text !== 'string') return undefined;
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 1).trim().split(/\s+/);
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const state = rest[0];
  const ppid = nonNeg(rest[1]);
  const utime = nonNeg(rest[11]);
  const stime = nonNeg(rest[12]);
  const threads = nonNeg(rest[17]);
  const start = nonNeg(rest[19]);
  const vsize = nonNeg(rest[20]);
  if (!state || !/^[A-Za-z]$/.test(state) || ppid === undefined || utime === undefined || stime === undefined || start === undefined) return undefined;
  return {
    comm: text.slice(open + 1, close),
    state,
    ppid,
    cpuTicks: utime + stime,
    threads: threads ?? 0,
    startTicks: start,
    vsizeBytes: vsize ?? 0,
  };
}

/** `"2048 kB"` → 2097152; a bare number is taken as bytes. Garbage → undefined. */
export function parseKbValue(value: string | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+)\s*(kB|KB|kb|B)?\s*$/.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (!Number.isSafeInteger(n)) return undefined;
  return m[2] && m[2] !== 'B' ? n * 1024 : n;
}

/** `Key:  value` lines (status, meminfo) into a map. */
export function parseKeyValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof text !== 'string') return out;
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    out.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return out;
}

export interface PidStatus {
  name?: string;
  rssBytes?: number;
  vmsBytes?: number;
  threads?: number;
  ppid?: number;
}

/** `/proc/<pid>/status`: Name, VmRSS, VmSize, Threads, PPid. */
export function parsePidStatus(text: string): PidStatus {
  const kv = parseKeyValues(text);
  return {
    name: kv.get('Name') || undefined,
    rssBytes: parseKbValue(kv.get('VmRSS')),
    vmsBytes: parseKbValue(kv.get('VmSize')),
    threads: nonNeg(kv.get('Threads')),
    ppid: nonNeg(kv.get('PPid')),
  };
}

/** `/proc/<pid>/io`: read_bytes / write_bytes (storage-layer bytes). */
export function parsePidIo(text: string): { readBytes?: number; writeBytes?: number } {
  const kv = parseKeyValues(text);
  return { readBytes: nonNeg(kv.get('read_bytes')), writeBytes: nonNeg(kv.get('write_bytes')) };
}

/** `/proc/<pid>/statm` (pages): size and resident, times the page size. */
export function parseStatm(text: string, pageSize = 4096): { vmsBytes?: number; rssBytes?: number } {
  if (typeof text !== 'string') return {};
  const f = text.trim().split(/\s+/);
  const size = nonNeg(f[0]);
  const resident = nonNeg(f[1]);
  return { vmsBytes: size === undefined ? undefined : size * pageSize, rssBytes: resident === undefined ? undefined : resident * pageSize };
}

export interface MemInfo {
  totalBytes?: number;
  availableBytes?: number;
  swapTotalBytes?: number;
  swapFreeBytes?: number;
}

/** `/proc/meminfo`. MemAvailable falls back to MemFree + Buffers + Cached on old kernels. */
export function parseMeminfo(text: string): MemInfo {
  const kv = parseKeyValues(text);
  let available = parseKbValue(kv.get('MemAvailable'));
  if (available === undefined) {
    const free = parseKbValue(kv.get('MemFree'));
    if (free !== undefined) available = free + (parseKbValue(kv.get('Buffers')) ?? 0) + (parseKbValue(kv.get('Cached')) ?? 0);
  }
  return {
    totalBytes: parseKbValue(kv.get('MemTotal')),
    availableBytes: available,
    swapTotalBytes: parseKbValue(kv.get('SwapTotal')),
    swapFreeBytes: parseKbValue(kv.get('SwapFree')),
  };
}

/** `/proc/loadavg` → [1m, 5m, 15m], or undefined on garbage. */
export function parseLoadavg(text: string): [number, number, number] | undefined {
  if (typeof text !== 'string') return undefined;
  const f = text.trim().split(/\s+/).slice(0, 3).map(nonNeg);
  if (f.length < 3 || f.some((x) => x === undefined)) return undefined;
  return f as [number, number, number];
}

/** `/proc/stat`: total jiffies of the aggregate `cpu` line and the number of `cpuN` lines. */
export function parseProcStat(text: string): { totalTicks?: number; cores?: number } {
  if (typeof text !== 'string') return {};
  let totalTicks: number | undefined;
  let cores = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('cpu ')) {
      const nums = line.slice(4).trim().split(/\s+/).map(nonNeg);
      if (nums.length > 0 && nums.every((x) => x !== undefined)) totalTicks = (nums as number[]).reduce((a, b) => a + b, 0);
    } else if (/^cpu\d+\s/.test(line)) cores++;
  }
  return { totalTicks, cores: cores > 0 ? cores : undefined };
}

/** `/proc/uptime` → seconds since boot. */
export function parseUptime(text: string): number | undefined {
  if (typeof text !== 'string') return undefined;
  return nonNeg(text.trim().split(/\s+/)[0]);
}

/** `/proc/<pid>/cmdline`: NUL-separated argv (a trailing NUL is dropped). */
export function parseCmdline(raw: string): string[] {
  if (typeof raw !== 'string' || raw === '') return [];
  const parts = raw.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}
