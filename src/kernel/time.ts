// Timestamps in the original's shape: RFC 3339 with `+00:00` (chrono's to_rfc3339).

/** e.g. `2026-02-20T10:11:12.123+00:00`. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace('Z', '+00:00');
}

export function rfc3339Now(): string {
  return rfc3339(new Date());
}
