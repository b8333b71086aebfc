// Codex provider: the conversation rendered into one prompt, run through a CodexExecutor
// (a single direct CLI run by default; the Brain's account pool and queue plug in here).
// PLACEHOLDER: replaced by the providers work in progress.
import { ProviderError, type Provider, type ProviderRequest, type ProviderResult } from './types.js';
import type { Settings } from '../config/index.js';

/** Runs one Codex task: executes it now, or queues it (the answer is delivered later). */
export interface CodexExecutor {
  submit(task: { prompt: string; purpose: string; requestId: string; sessionId: string; origin?: ProviderRequest['origin']; signal?: AbortSignal }): Promise<
    { status: 'executed'; output: string; latencyMs: number; accountId: string } | { status: 'queued'; taskId: string; queueDepth: number; reason: string }
  >;
}

export class CodexProvider implements Provider {
  readonly nativeTools = false;
  readonly name = 'codex';
  readonly model: string;
  constructor(settings: Settings, readonly executor?: CodexExecutor) {
    this.model = settings.model;
  }
  async complete(): Promise<ProviderResult> {
    throw new ProviderError('codex provider not built yet', 0, 0);
  }
}
