// OpenAI-compatible chat completions provider (openrouter, openai, groq, compatible, vllm).
// PLACEHOLDER: replaced by the providers work in progress.
import { ProviderError, type Provider, type ProviderResult } from './types.js';
import type { Settings } from '../config/index.js';

export class OpenAICompatibleProvider implements Provider {
  readonly nativeTools = true;
  readonly name: string;
  readonly model: string;
  constructor(settings: Settings) {
    this.name = settings.provider;
    this.model = settings.model;
  }
  async complete(): Promise<ProviderResult> {
    throw new ProviderError('openai-compatible provider not built yet', 0, 0);
  }
}
