// `stats`: the persisted telemetry, in the original's shape (keys sorted), plus the bus and
// prompt-cache counters summed over every process (the original showed this process's zeros).
import { loadSettings } from '../config/index.js';
import { Telemetry } from '../store/index.js';
import { sortKeysDeep } from '../kernel/index.js';

export function statsJson(): unknown {
  const s = loadSettings();
  const snap = new Telemetry(s.telemetryFile).read();
  const { last_turn, bus, prompt_cache, ...rest } = snap;
  return {
    bus: sortKeysDeep({ consumed: bus?.consumed ?? 0, depth: bus?.depth ?? 0, dropped: bus?.dropped ?? 0, published: bus?.published ?? 0 }),
    last_turn,
    prompt_cache: { hits: prompt_cache?.hits ?? 0, misses: prompt_cache?.misses ?? 0 },
    telemetry: sortKeysDeep({ ...rest, file: s.telemetryFile }),
  };
}
