// Composition root for one-shot commands and `serve`: settings → stores → tools → provider →
// Runtime. Only this file (and serve's assembly) knows the concrete classes.
import { loadSettings, type Settings } from '../config/index.js';
import { SessionStore, Telemetry } from '../store/index.js';
import { ToolRegistry, builtinTools } from '../tools/index.js';
import { createProvider, type Provider, type ProviderDeps } from '../providers/index.js';
import { Runtime } from './runtime.js';
import { installPulseApprovals } from './pulse-wiring.js';

export interface AppOptions {
  settings?: Settings;
  provider?: Provider;
  providerDeps?: ProviderDeps;
  /** Telemetry debounce; one-shot commands flush at close anyway. */
  telemetryDebounceMs?: number;
}

export interface App {
  settings: Settings;
  runtime: Runtime;
  close(): Promise<void>;
}

export async function createApp(options: AppOptions = {}): Promise<App> {
  const settings = options.settings ?? loadSettings();
  const sessions = new SessionStore(settings.sessionsDir, { fsync: settings.sessionFsync });
  const telemetry = new Telemetry(settings.telemetryFile, options.telemetryDebounceMs);
  const tools = new ToolRegistry();
  for (const t of builtinTools) tools.register(t);
  const provider = options.provider ?? (await createProvider(settings, options.providerDeps));
  const runtime = new Runtime({ settings, sessions, telemetry, tools, provider });
  // Risky model-requested tools wait for operator approval (Pulse opens lazily on first use).
  installPulseApprovals(runtime);
  return { settings, runtime, close: () => runtime.close() };
}
