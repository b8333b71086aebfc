// `run` and `tools run`: one turn through the runtime; prints the answer, or one error line
// with the request id (exit 1). An unknown tool is a usage error found before the turn.
import { loadSettings } from '../config/index.js';
import { createApp } from '../app/index.js';
import { MessageTooLargeError, TurnError, UsageError, oversize } from '../kernel/index.js';
import type { CommandOutput } from './output.js';
import { firstRunNotice, missingDirs } from './first-run.js';

export async function runOneTurn(sessionId: string, message: string, opts: { tool?: string } = {}): Promise<CommandOutput> {
  const settings = loadSettings();
  const before = missingDirs(settings);
  const app = await createApp({ settings });
  try {
    // A tool name that cannot work is the caller's mistake: a usage error, and no turn recorded.
    const tool = opts.tool;
    if (tool !== undefined && !app.tools.get(tool)) {
      if (!/^[a-z0-9_-]+$/.test(tool)) throw new UsageError(tool === '' ? 'tool name is empty' : `invalid tool name '${tool}'. allowed chars: a-z, 0-9, '_' and '-'`);
      throw new UsageError(`unknown tool '${tool}'. available: ${app.tools.names().join(', ')}`);
    }
    const bytes = oversize(message, app.settings.maxMessageBytes);
    if (bytes !== undefined) {
      const e = new MessageTooLargeError(bytes, app.settings.maxMessageBytes);
      throw new UsageError(e.message, { hint: e.hint });
    }
    const reply = await app.runtime.handle({ sessionId, text: message, channel: 'cli' });
    if (reply.status === 'error') throw new TurnError(reply.requestId, reply.error ?? reply.text, { hint: reply.hint ?? codexHint(app.settings.provider, reply.error) });
    // The answer as text; with --json the turn's ids too (for scripts that keep the request id).
    const json = { response: reply.text, request_id: reply.requestId, session_id: reply.sessionId, path: reply.path, deferred: reply.deferred === true };
    return { json, text: reply.text, textFirst: true };
  } finally {
    await app.close();
    firstRunNotice(before, app.settings);
  }
}

function codexHint(provider: string, error: string | undefined): string | undefined {
  if (provider !== 'codex' || !error) return undefined;
  if (/not found|ENOENT|failed to execute/i.test(error)) {
    return 'Install the Codex CLI (npm install -g @openai/codex) and log in (codex login), or choose another provider: RUSTY_PINCH_PROVIDER=local (offline), openai, openrouter, groq or compatible.';
  }
  return undefined;
}
