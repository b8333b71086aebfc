// Text helpers for the monitor view: byte sizes in binary units (the original's format_bytes),
// percentages, durations and history sparklines. Missing values print `n/a`.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `512` → `512 B`, `1536` → `1.50 KiB`, `1048576` → `1.00 MiB`. */
export function formatBytes(bytes: number | undefined | null): string {
  if (bytes === undefined || bytes === null || !Number.isFinite(bytes) || bytes < 0) return 'n/a';
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)} ${UNITS[i]}`;
}

export function formatPercent(p: number | undefined | null): string {
  return p === undefined || p === null || !Number.isFinite(p) ? 'n/a' : `${p.toFixed(2)}%`;
}

export function formatNumber(n: number | undefined | null): string {
  return n === undefined || n === null || !Number.isFinite(n) ? 'n/a' : String(n);
}

/** Seconds → `3d 4h`, `2h 5m`, `5m 3s`, `42s`. */
export function formatDuration(secs: number | undefined | null): string {
  if (secs === undefined || secs === null || !Number.isFinite(secs) || secs < 0) return 'n/a';
  const s = Math.floor(secs);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

const BARS = '▁▂▃▄▅▆▇█';

/**
 * One character per value, scaled between `min` and `max` (defaults: 0 and the largest
 * value). Missing values are blanks.
 */
export function sparkline(values: ReadonlyArray<number | undefined>, opts: { min?: number; max?: number; width?: number } = {}): string {
  const width = opts.width ?? values.length;
  const tail = values.slice(Math.max(0, values.length - width));
  const present = tail.filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (present.length === 0) return ' '.repeat(tail.length);
  const min = opts.min ?? 0;
  const max = Math.max(opts.max ?? Math.max(...present), min);
  const span = max - min;
  return tail
    .map((v) => {
      if (v === undefined || !Number.isFinite(v)) return ' ';
      if (span <= 0) return BARS[0];
      const r = Math.min(1, Math.max(0, (v - min) / span));
      return BARS[Math.round(r * (BARS.length - 1))];
    })
    .join('');
}
