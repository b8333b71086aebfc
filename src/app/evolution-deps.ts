// What a skill generation needs from the composition: the runtime door, the sandbox, telemetry
// and Pulse (approvals). Shared by the CLI command and the `skill_create` tool. The model is
// the Codex pool when Codex is enabled and has somewhere to run (provider codex, or accounts
// configured), else the configured provider.
import { join } from 'node:path';
import type { Settings } from '../config/index.js';
import type { Telemetry } from '../store/index.js';
import type { PulseService } from '../pulse/index.js';
import type { GenerationDeps, SkillSandbox } from '../evolution/skills/index.js';
import { FRIENDLY_LATE_FAILURE, errorChain, parseTarget, type DeferredReply, type OutboxWriter, type TurnDoor } from '../kernel/index.js';

export interface GenerationHost {
  settings: Settings;
  runtime: Pick<TurnDoor, 'agent'>;
  skills: SkillSandbox;
  telemetry: Telemetry;
  pulse(): Promise<PulseService>;
}

/** True when generations go to the Codex pool. */
export function usesCodexPool(settings: Settings): boolean {
  return settings.codex.enabled && (settings.provider === 'codex' || settings.codex.accounts.length > 0);
}

export function generationDeps(app: GenerationHost, extra: Partial<GenerationDeps> = {}): GenerationDeps {
  const s = app.settings;
  return {
    door: app.runtime,
    sandbox: app.skills,
    skillsDir: join(s.workspace, 'skills'),
    workspace: s.workspace,
    env: s.env,
    limits: s.skills,
    model: usesCodexPool(s) ? 'codex_pool' : `provider:${s.provider}`,
    telemetry: app.telemetry,
    pendingPromotion: async (skill) => {
      const now = Date.now();
      const a = (await app.pulse()).view().pending_approvals.find((x) => x.perform.kind === 'skill_promotion' && x.perform.skill === skill && !(Date.parse(x.expires_at) < now));
      return a ? { token: a.token, expires_at: a.expires_at } : null;
    },
    // Risky candidates wait for the operator (a Pulse approval; approving promotes).
    requestApproval: async (req) => {
      const a = await (await app.pulse()).requestSkillPromotion({ skill: req.skill, goal: req.goal, replace: req.replace, reasons: req.reasons, summary: req.summary });
      return { token: a.token };
    },
    ...extra,
  };
}

/**
 * A queued model answer for the generation session (the Codex pool, drained by `serve`):
 * the pipeline continues, and the outcome is reported to the operator through the outbox
 * (the Pulse notify targets). Answers that are not a queued generation's are ignored.
 */
export async function resumeAndReport(host: GenerationHost, outbox: OutboxWriter, reply: DeferredReply): Promise<void> {
  const { resumeQueuedGeneration } = await import('../evolution/skills/index.js');
  let text: string;
  try {
    // The pool's note for a request it gave up on is not an answer to validate.
    const r = await resumeQueuedGeneration(generationDeps(host), { requestId: reply.requestId, text: reply.text, failed: reply.text === FRIENDLY_LATE_FAILURE });
    if (!r) return;
    text = `Skill '${r.skill}' (queued generation): ${r.status} after ${r.attempts} attempt(s)${r.approval_token ? `; approve with /approve ${r.approval_token}` : ''}${r.error ? `: ${r.error}` : ''}`;
  } catch (err) {
    text = `A queued skill generation failed: ${errorChain(err)}`;
  }
  for (const target of host.settings.pulse.notify) {
    const t = parseTarget(target);
    if (t) await outbox.enqueue({ kind: 'notification', channel: t.channel, chatId: t.chatId, text });
  }
}

/**
 * Queued generations whose answer is already in the generation session but were never resumed:
 * the pool was drained by another process (`codex drain-one`, a one-shot `pulse`), or serve
 * stopped between recording the answer and resuming. `serve` runs this at start; each is
 * resumed once (the claim in resumeQueuedGeneration) and reported like a late answer.
 */
export async function resumeAnswered(host: GenerationHost & { sessions: { tail(sessionId: string, max: number): Array<{ role: string; content: string; [extra: string]: unknown }> } }, outbox: OutboxWriter): Promise<number> {
  const { GENERATION_SESSION, queuedGenerationRequests } = await import('../evolution/skills/index.js');
  const waiting = new Set(queuedGenerationRequests(join(host.settings.workspace, 'skills')));
  if (waiting.size === 0) return 0;
  let resumed = 0;
  for (const r of host.sessions.tail(GENERATION_SESSION, 2000)) {
    const id = r.request_id;
    if (r.role !== 'assistant' || r.deferred !== true || typeof id !== 'string' || !waiting.has(id)) continue;
    waiting.delete(id);
    await resumeAndReport(host, outbox, { sessionId: GENERATION_SESSION, channel: undefined, chatId: undefined, requestId: id, text: r.content });
    resumed++;
  }
  return resumed;
}
