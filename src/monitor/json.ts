// Machine output: the snapshot without the live-only history (one object for --once, one
// line per tick in live --json mode). Missing values are null, never "n/a".
import type { Snapshot } from './collector.js';

export function snapshotJson(s: Snapshot): Record<string, unknown> {
  const { history: _history, ...rest } = s;
  return rest;
}
