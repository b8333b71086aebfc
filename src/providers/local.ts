// Offline provider (`local`, `offline`): a deterministic reply, no network (reference §5.1).
import type { Provider, ProviderRequest, ProviderResult } from './types.js';

export class LocalProvider implements Provider {
  readonly nativeTools = false;
  constructor(readonly name: string, readonly model: string) {}

  async complete(req: ProviderRequest): Promise<ProviderResult> {
    const started = performance.now();
    const user = [...req.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    const history = req.historyTotal ?? Math.max(0, req.messages.filter((m) => m.role !== 'system').length - 1);
    return {
      content: `[Rusty Pinch:${this.name}:${this.model}] Received '${user}'. history=${history} messages.`,
      attempts: 0,
      latencyMs: Math.round(performance.now() - started),
      tokensUsed: 0,
    };
  }
}
