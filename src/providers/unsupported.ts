// A provider name we know but do not implement (e.g. `anthropic`), or an unknown one.
import { ProviderError, type Provider, type ProviderResult } from './types.js';

export class UnsupportedProvider implements Provider {
  readonly nativeTools = false;
  constructor(readonly name: string, readonly model: string) {}

  async complete(): Promise<ProviderResult> {
    throw new ProviderError(`provider '${this.name}' is not implemented yet in rusty-pinch runtime`, 0, 0, {
      hint: 'Set RUSTY_PINCH_PROVIDER to codex, openai, openrouter, groq, compatible, vllm or local.',
    });
  }
}
