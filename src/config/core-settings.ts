// Core settings: provider, model, keys and bases, directories, request policy, bus.
import { resolve } from 'node:path';
import type { EnvReader } from './env-reader.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../kernel/index.js';

export const PROVIDERS = ['codex', 'openrouter', 'openai', 'groq', 'vllm', 'compatible', 'local', 'offline', 'anthropic'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** Providers that speak the OpenAI Chat Completions API over HTTP. */
export const HTTP_PROVIDERS: readonly string[] = ['openrouter', 'openai', 'groq', 'vllm', 'compatible'];

export interface CoreSettings {
  /** Lowercased provider name; unknown names are kept so doctor/turns can report them. */
  provider: string;
  model: string;
  apiKey: string | undefined;
  /** Name of the variable the key came from (never the value). */
  apiKeyFrom: string | undefined;
  apiBase: string | undefined;
  apiBaseFrom: string | undefined;
  requestTimeoutSecs: number;
  requestRetries: number;
  retryBackoffMs: number;
  retryMaxBackoffMs: number;
  /** How many earlier messages go into a provider request. Default 20 (the original's window). */
  historyWindow: number;
  dataDir: string;
  workspace: string;
  telemetryFile: string;
  sessionsDir: string;
  busCapacity: number;
  busOverflow: 'drop_oldest' | 'drop_newest' | 'block';
  /** Max sessions turning at the same time in one process. Default 32: turns mostly wait on
   *  the network, and a slow chat must not hold up the others. */
  maxConcurrentTurns: number;
  /** fsync each session append (durable across power loss). Default true. */
  sessionFsync: boolean;
  /** Largest inbound message in UTF-8 bytes (0 = no limit). Default 32 KiB. */
  maxMessageBytes: number;
  /** Most bytes of earlier messages sent with a request (0 = no limit). Default 64 KiB. */
  historyMaxBytes: number;
  /** Lowest stderr event level written (the CLI applies it; `--quiet` means `error`). */
  logLevel: 'off' | 'error' | 'warn' | 'info' | 'debug';
}

const KEY_ORDER: Record<string, string[]> = {
  openai: ['RUSTY_PINCH_OPENAI_API_KEY', 'OPENAI_API_KEY', 'PICOCLAW_PROVIDERS_OPENAI_API_KEY'],
  openrouter: ['RUSTY_PINCH_OPENROUTER_API_KEY', 'OPENROUTER_API_KEY', 'PICOCLAW_PROVIDERS_OPENROUTER_API_KEY'],
  anthropic: ['RUSTY_PINCH_ANTHROPIC_API_KEY', 'ANTHROPIC_API_KEY', 'PICOCLAW_PROVIDERS_ANTHROPIC_API_KEY'],
  groq: ['RUSTY_PINCH_GROQ_API_KEY', 'GROQ_API_KEY', 'PICOCLAW_PROVIDERS_GROQ_API_KEY'],
};
// Beyond the original: RUSTY_PINCH_OPENAI_API_KEY is also consulted for the other providers
// (the original skipped it for `compatible`/`vllm`, reference §20.29).
const KEY_FALLBACK = ['RUSTY_PINCH_OPENAI_API_KEY', 'OPENAI_API_KEY', 'OPENROUTER_API_KEY', 'ANTHROPIC_API_KEY', 'PICOCLAW_PROVIDERS_OPENAI_API_KEY', 'PICOCLAW_PROVIDERS_OPENROUTER_API_KEY', 'PICOCLAW_PROVIDERS_ANTHROPIC_API_KEY'];

const BASE_ORDER: Record<string, string[]> = {
  openai: ['RUSTY_PINCH_OPENAI_API_BASE', 'OPENAI_API_BASE', 'PICOCLAW_PROVIDERS_OPENAI_API_BASE'],
  openrouter: ['RUSTY_PINCH_OPENROUTER_API_BASE', 'OPENROUTER_API_BASE', 'PICOCLAW_PROVIDERS_OPENROUTER_API_BASE'],
  groq: ['RUSTY_PINCH_GROQ_API_BASE', 'GROQ_API_BASE', 'PICOCLAW_PROVIDERS_GROQ_API_BASE'],
};
const BASE_FALLBACK = ['RUSTY_PINCH_OPENAI_API_BASE', 'RUSTY_PINCH_OPENROUTER_API_BASE', 'OPENAI_API_BASE', 'OPENROUTER_API_BASE', 'PICOCLAW_PROVIDERS_OPENAI_API_BASE', 'PICOCLAW_PROVIDERS_OPENROUTER_API_BASE'];
const BASE_DEFAULT: Record<string, string> = {
  openai: 'https://api.openai.com/v1',
  openrouter: 'https://openrouter.ai/api/v1',
  groq: 'https://api.groq.com/openai/v1',
};

/** The original's per-provider default model (groq gets a groq model here, not an openrouter slug). */
export function defaultModel(provider: string): string {
  switch (provider) {
    case 'codex':
      return 'gpt-5-codex';
    case 'openai':
      return 'gpt-4o-mini';
    case 'anthropic':
      return 'claude-3-5-sonnet-latest';
    case 'groq':
      return 'llama-3.3-70b-versatile';
    case 'local':
    case 'offline':
      return 'local';
    default:
      return 'openrouter/qwen/qwen3-coder';
  }
}

export function keyVariables(provider: string): string[] {
  return ['RUSTY_PINCH_API_KEY', ...(KEY_ORDER[provider] ?? KEY_FALLBACK)];
}

export function loadCoreSettings(r: EnvReader, cwd: string): CoreSettings {
  const provider = (r.str('RUSTY_PINCH_PROVIDER') ?? 'codex').toLowerCase();
  if (!(PROVIDERS as readonly string[]).includes(provider)) {
    r.issue('RUSTY_PINCH_PROVIDER', provider, `unknown provider; expected one of ${PROVIDERS.join(', ')}`, '(none: turns will fail)');
  }
  const model = r.strKeepEmpty('RUSTY_PINCH_MODEL', defaultModel(provider));
  const key = r.first(keyVariables(provider));
  const base = r.first(['RUSTY_PINCH_API_BASE', ...(BASE_ORDER[provider] ?? BASE_FALLBACK)]);
  const dataDir = resolve(cwd, r.str('RUSTY_PINCH_DATA_DIR') ?? './data');
  const workspace = resolve(cwd, r.str('RUSTY_PINCH_WORKSPACE') ?? './workspace');
  const telemetry = r.str('RUSTY_PINCH_TELEMETRY_FILE');
  const requestRetries = r.int('RUSTY_PINCH_REQUEST_RETRIES', 2, { min: 0, max: 20 });
  return {
    provider,
    model,
    apiKey: key?.value,
    apiKeyFrom: key?.from,
    apiBase: base ? base.value.replace(/\/+$/, '') : BASE_DEFAULT[provider],
    apiBaseFrom: base?.from ?? (BASE_DEFAULT[provider] ? 'built-in default' : undefined),
    requestTimeoutSecs: r.int('RUSTY_PINCH_REQUEST_TIMEOUT_SECS', 60, { min: 0, max: 3600 }),
    requestRetries,
    retryBackoffMs: r.int('RUSTY_PINCH_RETRY_BACKOFF_MS', 600, { min: 0, max: 600_000 }),
    retryMaxBackoffMs: r.int('RUSTY_PINCH_RETRY_MAX_BACKOFF_MS', 4000, { min: 0, max: 600_000 }),
    historyWindow: r.int('RUSTY_PINCH_HISTORY_WINDOW', 20, { min: 0, max: 500 }),
    dataDir,
    workspace,
    telemetryFile: telemetry ? resolve(cwd, telemetry) : resolve(dataDir, 'telemetry', 'latest.json'),
    sessionsDir: resolve(dataDir, 'sessions'),
    busCapacity: Math.max(1, r.int('RUSTY_PINCH_BUS_CAPACITY', 100, { min: 0, max: 1_000_000 })),
    busOverflow: r.oneOf('RUSTY_PINCH_BUS_OVERFLOW', ['drop_oldest', 'drop_newest', 'block'] as const, 'drop_oldest'),
    maxConcurrentTurns: r.int('RUSTY_PINCH_MAX_CONCURRENT_TURNS', 32, { min: 1, max: 256 }),
    sessionFsync: r.bool('RUSTY_PINCH_SESSION_FSYNC', true),
    maxMessageBytes: r.int('RUSTY_PINCH_MAX_MESSAGE_BYTES', DEFAULT_MAX_MESSAGE_BYTES, { min: 0, max: 64 * 1024 * 1024 }),
    historyMaxBytes: r.int('RUSTY_PINCH_HISTORY_MAX_BYTES', 64 * 1024, { min: 0, max: 256 * 1024 * 1024 }),
    logLevel: r.oneOf('RUSTY_PINCH_LOG_LEVEL', ['off', 'error', 'warn', 'info', 'debug'] as const, 'info'),
  };
}
