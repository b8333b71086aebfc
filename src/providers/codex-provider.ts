// Codex provider: the conversation rendered into one prompt, run through a CodexExecutor
// (a single direct CLI run by default; the Brain's account pool and queue plug in here).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, errorChain } from '../kernel/index.js';
import { CODEX_INSTALL_HINT, type Settings } from '../config/index.js';
import { buildCodexExecArgv, codexChildEnv, codexRunOutput, runCodexProcess } from './codex-runner.js';
import { renderCodexPrompt } from './codex-prompt.js';
import { ProviderError, type Provider, type ProviderRequest, type ProviderResult } from './types.js';

/** Runs one Codex task: executes it now, or queues it (the answer is delivered later). */
export interface CodexExecutor {
  submit(task: { prompt: string; purpose: string; requestId: string; sessionId: string; origin?: ProviderRequest['origin']; signal?: AbortSignal }): Promise<
    { status: 'executed'; output: string; latencyMs: number; accountId: string } | { status: 'queued'; taskId: string; queueDepth: number; reason: string }
  >;
}

export type CodexTask = Parameters<CodexExecutor['submit']>[0];
export type CodexOutcome = Awaited<ReturnType<CodexExecutor['submit']>>;

/** What a user sees when the task had to wait; the real answer follows in the same chat. */
export function queuedText(queueDepth: number): string {
  const ahead = queueDepth > 1 ? ` (${queueDepth - 1} ahead of it)` : '';
  return `Your request is queued${ahead} and will be answered here as soon as Codex is available.`;
}

export class CodexProvider implements Provider {
  readonly nativeTools = false;
  readonly name = 'codex';
  readonly model: string;
  readonly executor: CodexExecutor;
  constructor(settings: Settings, executor?: CodexExecutor) {
    this.model = settings.model;
    this.executor = executor ?? new DirectCodexExecutor(settings);
  }

  async complete(req: ProviderRequest): Promise<ProviderResult> {
    const started = performance.now();
    const prompt = renderCodexPrompt(req.messages);
    let outcome: CodexOutcome;
    try {
      outcome = await this.executor.submit({
        prompt,
        purpose: req.purpose ?? `provider_turn:${req.sessionId}`,
        requestId: req.requestId,
        sessionId: req.sessionId,
        origin: req.origin,
        signal: req.signal,
      });
    } catch (err) {
      const hint = err instanceof AppError && err.hint ? err.hint : err instanceof AppError && err.code === 'codex_spawn' ? CODEX_INSTALL_HINT : undefined;
      throw new ProviderError(errorChain(err), 1, Math.round(performance.now() - started), { hint, cause: err });
    }
    if (outcome.status === 'queued') {
      return {
        content: queuedText(outcome.queueDepth),
        attempts: 0,
        latencyMs: 0,
        queued: { taskId: outcome.taskId, queueDepth: outcome.queueDepth, reason: outcome.reason },
      };
    }
    return { content: outcome.output, attempts: 1, latencyMs: outcome.latencyMs };
  }
}

/**
 * The executor used when no pool is wired: one CLI run per task with the first account's
 * settings (its model, its key variable passed under the same name, CODEX_HOME if set).
 */
export class DirectCodexExecutor implements CodexExecutor {
  constructor(private readonly settings: Settings) {}

  async submit(task: CodexTask): Promise<CodexOutcome> {
    const s = this.settings;
    const codex = s.codex;
    if (!codex.enabled) throw new AppError('codex', 'codex integration is disabled', { hint: 'Set RUSTY_PINCH_CODEX_ENABLED=true, or choose another provider with RUSTY_PINCH_PROVIDER.' });
    if (!codex.cliBin) throw new AppError('codex_spawn', 'RUSTY_PINCH_CODEX_CLI_BIN is empty', { hint: CODEX_INSTALL_HINT });
    const account = codex.accounts[0];
    const extra: Record<string, string> = {};
    if (account?.apiKeyEnv) {
      const value = s.env[account.apiKeyEnv]?.trim();
      if (!value) throw new AppError('codex', `required env '${account.apiKeyEnv}' is missing for codex account`, { hint: `Set ${account.apiKeyEnv}, or remove it from RUSTY_PINCH_CODEX_ACCOUNTS.` });
      extra[account.apiKeyEnv] = value;
      extra.CODEX_API_KEY = value; // what `codex exec` reads before auth.json
    }
    extra.CODEX_HOME = codex.operatorHome;
    const scratchDir = join(s.workspace, 'codex', 'scratch');
    mkdirSync(scratchDir, { recursive: true, mode: 0o700 });
    const { args, stdin } = buildCodexExecArgv(codex, account?.model ?? codex.model, task.prompt, { scratchDir });
    const timeoutMs = codex.timeoutSecs * 1000;
    const res = await runCodexProcess({ bin: codex.cliBin, args, stdin, env: codexChildEnv(s.env, extra), timeoutMs, signal: task.signal, cwd: s.cwd });
    const output = codexRunOutput(res, timeoutMs, task.signal?.aborted ?? false);
    return { status: 'executed', output, latencyMs: res.latencyMs, accountId: account?.id ?? 'default' };
  }
}
