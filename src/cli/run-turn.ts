// `run` and `tools run`: one turn through the runtime; prints the answer, or one error line
// with the request id (exit 1).
import { createApp } from '../app/index.js';
import { TurnError } from '../kernel/index.js';
import type { CommandOutput } from './output.js';

export async function runOneTurn(sessionId: string, message: string): Promise<CommandOutput> {
  const app = await createApp();
  try {
    const reply = await app.runtime.handle({ sessionId, text: message, channel: 'cli' });
    if (reply.status === 'error') throw new TurnError(reply.requestId, reply.error ?? reply.text, { hint: reply.hint ?? codexHint(app.settings.provider, reply.error) });
    return { stdout: reply.text };
  } finally {
    await app.close();
  }
}

function codexHint(provider: string, error: string | undefined): string | undefined {
  if (provider !== 'codex' || !error) return undefined;
  if (/not found|ENOENT|failed to execute/i.test(error)) {
    return 'Install the Codex CLI (npm install -g @openai/codex) and log in (codex login), or choose another provider: RUSTY_PINCH_PROVIDER=local (offline), openai, openrouter, groq or compatible.';
  }
  return undefined;
}
