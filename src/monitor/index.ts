// Monitor face: one snapshot (--once) or the live view, over /proc and the data directory.
import { MonitorCollector, type MonitorConfig, type Snapshot } from './collector.js';
import { renderSnapshot } from './render.js';
import { snapshotJson } from './json.js';

export { runLive, ENTER_SCREEN, LEAVE_SCREEN } from './live.js';
export { discover, classifyArgv, type Discovery, type Candidate } from './discover.js';
export { formatBytes, sparkline } from './format.js';
export type { MonitorConfig, Snapshot } from './collector.js';

/** Delay between the two CPU samples of --once. */
export const ONCE_SAMPLE_MS = 200;

export interface OnceResult {
  snapshot: Snapshot;
  text: string;
  json: Record<string, unknown>;
  found: boolean;
}

/** One snapshot with cpu% measured over ONCE_SAMPLE_MS (two samples). */
export async function monitorOnce(cfg: MonitorConfig): Promise<OnceResult> {
  const c = new MonitorCollector(cfg);
  await c.prime();
  await new Promise((r) => setTimeout(r, ONCE_SAMPLE_MS));
  const snapshot = await c.tick();
  return { snapshot, text: renderSnapshot(snapshot, { live: false }).join('\n'), json: snapshotJson(snapshot), found: snapshot.process !== null };
}
