// Providers face: the interface, and a factory that picks the implementation by name.
import type { Settings } from '../config/index.js';
import { HTTP_PROVIDERS } from '../config/index.js';
import { LocalProvider } from './local.js';
import { UnsupportedProvider } from './unsupported.js';
import type { Provider } from './types.js';
import type { CodexExecutor } from './codex-provider.js';

export * from './types.js';
export { LocalProvider } from './local.js';
export type { CodexExecutor, CodexTask, CodexOutcome } from './codex-provider.js';
export {
  runCodexProcess,
  buildCodexExecArgv,
  parseCodexOutput,
  codexChildEnv,
  codexRunOutput,
  stripControl,
  type CodexRunOptions,
  type CodexRunResult,
} from './codex-runner.js';
export { renderCodexPrompt } from './codex-prompt.js';
export { classifyCodexRun, classifyCodexText, rejectsFlag, usageLimitResetAt, type CodexFailure, type CodexFailureKind } from './codex-failure.js';
export { codexUsage, codexThreadId, type CodexUsage } from './codex-output.js';
export { isTransientStatus, isTransientMessage, computeRetryDelayMs, withJitter, parseRetryAfter, MAX_RETRY_AFTER_MS } from './retry.js';

export interface ProviderDeps {
  /** Codex task executor (the Brain's pool); default: one direct CLI run per task. */
  codexExecutor?: CodexExecutor;
}

/** Builds the configured provider; heavy implementations are loaded only when chosen. */
export async function createProvider(settings: Settings, deps: ProviderDeps = {}): Promise<Provider> {
  const name = settings.provider;
  if (name === 'local' || name === 'offline') return new LocalProvider(name, settings.model);
  if (HTTP_PROVIDERS.includes(name)) {
    const { OpenAICompatibleProvider } = await import('./openai-compatible.js');
    return new OpenAICompatibleProvider(settings);
  }
  if (name === 'codex') {
    const { CodexProvider } = await import('./codex-provider.js');
    return new CodexProvider(settings, deps.codexExecutor);
  }
  return new UnsupportedProvider(name, settings.model);
}
