// Pulse for one-shot `pulse …` commands: the runtime door is built only if an action needs it
// (an approved tool or skill, the orient step); notifications go to the outbox for `serve`.
import type { Settings } from '../config/index.js';
import { Outbox, Telemetry } from '../store/index.js';
import type { PulseService } from '../pulse/index.js';
import type { App } from './create-app.js';
import { openWiredPulse } from './pulse-wiring.js';
import { openDeliveringCodexPool } from './codex.js';
import { pulseSkillGenerator } from './pulse-skills.js';

export async function openCliPulse(settings: Settings): Promise<{ pulse: PulseService; close(): Promise<void> }> {
  let app: Promise<App> | undefined;
  const telemetry = new Telemetry(settings.telemetryFile);
  const getApp = (): Promise<App> => (app ??= import('./create-app.js').then((m) => m.createApp({ settings })));
  let pool: ReturnType<typeof openDeliveringCodexPool> | undefined;
  const pulse = await openWiredPulse({
    settings,
    door: async () => (await getApp()).runtime,
    telemetry,
    outbox: new Outbox(settings.workspace),
    codex: settings.codex.enabled ? () => (pool ??= openDeliveringCodexPool(settings, { telemetry })) : undefined,
    // Skill generation jobs and approved `skill_create` actions run here too (the app opens only then).
    generateSkill: pulseSkillGenerator(settings, getApp),
  });
  return {
    pulse,
    close: async () => {
      if (app) await (await app).close();
      await telemetry.flush().catch(() => undefined);
    },
  };
}
