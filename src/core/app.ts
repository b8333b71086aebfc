// Composition root for one-shot commands and `serve`: settings → stores → tools → provider →
// Runtime. Only this file (and serve's assembly) knows the concrete classes.
import { loadSettings, type Settings } from '../config/index.js';
import { SessionStore, Telemetry } from '../store/index.js';
import { ToolRegistry, builtinTools } from '../tools/index.js';
import { createProvider, type Provider, type ProviderDeps } from '../providers/index.js';
import { Runtime } from './runtime.js';
import { installPulseApprovals } from './pulse-wiring.js';
import { attachOtlp } from './otlp-wiring.js';
import { SkillManager, skillListTool, skillRunTool, type SkillManagerOptions } from '../skills/index.js';
import type { CodexPool, CodexPoolDeps } from '../brain/index.js';

export interface AppOptions {
  settings?: Settings;
  provider?: Provider;
  providerDeps?: ProviderDeps;
  /** Telemetry debounce; one-shot commands flush at close anyway. */
  telemetryDebounceMs?: number;
  /** Seams for the Codex pool built when the provider is codex (tests: runner, clock). */
  codexPool?: Pick<CodexPoolDeps, 'runner' | 'clock'>;
  /** Skill manager seams (tests: resolver, assets dir, constants). */
  skills?: SkillManagerOptions;
}

export interface App {
  settings: Settings;
  runtime: Runtime;
  /** The Codex account pool (provider codex): queued answers go to runtime.completeDeferred. */
  codex?: CodexPool;
  /** Skills (QuickJS loads lazily on the first run; nothing is scanned at startup). */
  skills: SkillManager;
  close(): Promise<void>;
}

export async function createApp(options: AppOptions = {}): Promise<App> {
  const settings = options.settings ?? loadSettings();
  const sessions = new SessionStore(settings.sessionsDir, { fsync: settings.sessionFsync });
  const telemetry = new Telemetry(settings.telemetryFile, options.telemetryDebounceMs);
  const tools = new ToolRegistry();
  for (const t of builtinTools) tools.register(t);
  const skills = new SkillManager(settings.workspace, settings.skills, options.skills);
  tools.register(skillListTool(() => skills));
  tools.register(skillRunTool(() => skills));
  let providerDeps = options.providerDeps;
  let codex: CodexPool | undefined;
  if (!options.provider && settings.provider === 'codex' && settings.codex.enabled && !providerDeps?.codexExecutor) {
    const { openCodexPool, deferredReplyHook } = await import('../brain/index.js');
    codex = openCodexPool(settings, { ...options.codexPool, telemetry, onTaskDone: deferredReplyHook((reply) => runtime.completeDeferred(reply)) });
    providerDeps = { ...providerDeps, codexExecutor: codex };
  }
  const provider = options.provider ?? (await createProvider(settings, providerDeps));
  const runtime = new Runtime({ settings, sessions, telemetry, tools, provider, skillNames: () => skills.names() });
  // Risky model-requested tools wait for operator approval (Pulse opens lazily on first use).
  installPulseApprovals(runtime);
  // Optional OTLP export (off unless an endpoint is configured; the SDK loads only then).
  const stopOtlp = await attachOtlp(settings, runtime);
  return { settings, runtime, codex, skills, close: async () => { await runtime.close(); await skills.close(); await stopOtlp?.(); } };
}
