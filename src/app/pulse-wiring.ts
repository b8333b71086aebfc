// Composition for Pulse: its callbacks go through the runtime door (the orient step is model
// work recorded in the `pulse` session like any turn; approved tools and skills are actions at
// the door) and the one road out (notifications go to the durable outbox). Pulse itself only
// sees callbacks; the door is built lazily, only when a callback needs it.
import { codexInUse, type Settings } from '../config/index.js';
import type { Telemetry } from '../store/index.js';
import { parseTarget, type OutboxWriter, type TurnDoor } from '../kernel/index.js';
import type { PulseCallbacks, PulseService, SkillGenerator } from '../pulse/index.js';

/** The part of the Codex pool face Pulse's default jobs use. */
export interface CodexPoolLike {
  healthcheck(force: boolean): Promise<unknown>;
  drainOne(): Promise<unknown>;
}

/** The session Pulse's own model work and skill runs are kept in. */
export const PULSE_SESSION = 'pulse';

export interface PulseWiring {
  settings: Settings;
  /** The runtime door (built on first use when a callback needs it). */
  door: () => Promise<TurnDoor>;
  telemetry: Telemetry;
  outbox: OutboxWriter;
  /** The Codex pool (opened on first use). */
  codex?: () => Promise<CodexPoolLike>;
  /** Evolution: generates a skill asked for by an OODA action or a job (ends in an approval request). */
  generateSkill?: SkillGenerator;
  /** In serve: the one Codex drainer; Pulse's drain job wakes it instead of draining itself. */
  codexDrainer?: () => { kick(): void } | undefined;
}

export function pulseCallbacks(w: PulseWiring): PulseCallbacks {
  const cb: PulseCallbacks = {
    telemetry: (section) => w.telemetry.setSection('pulse', section),
    notify: async (target, text, kind = 'notification') => {
      const t = parseTarget(target);
      if (!t) throw new Error(`notification target '${target}' is not <channel>:<chat id>`);
      await w.outbox.enqueue({ kind, channel: t.channel, chatId: t.chatId, text });
      return 'queued';
    },
    runTool: async (call) => {
      const door = await w.door();
      const r = await door.act({
        sessionId: call.session_id,
        kind: 'tool',
        name: call.name,
        args: call.args,
        continues: call.request_id,
        format: (output) => `[tool:${call.name} approved]\n${output}`,
        formatError: (message) => `[tool:${call.name} approved] error: ${message}`,
      });
      if (r.status === 'error') throw new Error(r.error ?? r.text);
      return r.output ?? '';
    },
    runSkill: async (name, args) => {
      const r = await (await w.door()).act({ sessionId: PULSE_SESSION, kind: 'skill', name, args, format: (output) => output });
      if (r.status === 'error') throw new Error(r.error ?? r.text);
      return r.output ?? '';
    },
  };
  if (w.generateSkill) cb.generateSkill = w.generateSkill;
  cb.promoteSkill = async (p) => {
    const [{ join }, { promoteApproved }] = await Promise.all([import('node:path'), import('../evolution/skills/index.js')]);
    return promoteApproved({ skillsDir: join(w.settings.workspace, 'skills'), workspace: w.settings.workspace, env: w.settings.env, telemetry: w.telemetry }, p);
  };
  // The local provider only echoes; asking it to assess would pretend. Skip it.
  if (w.settings.provider !== 'local') {
    cb.assess = async (prompt) => {
      const r = await (await w.door()).agent({
        sessionId: PULSE_SESSION,
        purpose: 'pulse_ooda',
        instructions: 'You assess operational observations for an operator. Answer briefly, in plain text.',
        prompt,
      });
      if (r.status === 'error') throw new Error(r.error ?? r.text);
      if (r.deferred) throw new Error(`the model is busy (queued as ${r.requestId})`);
      return r.text;
    };
  }
  if (w.settings.codex.enabled && w.codex) {
    const pool = w.codex;
    cb.codexHealthcheck = async () => {
      const r = (await (await pool()).healthcheck(true)) as { checks?: Array<{ account_id: string; healthy: boolean; message: string | null }> };
      const checks = Array.isArray(r?.checks) ? r.checks : [];
      const healthy = checks.filter((c) => c.healthy).length;
      // Every account down is a failure of the job: it is reported (and the operator notified).
      if (checks.length > 0 && healthy === 0) throw new Error(`no healthy codex account: ${checks.map((c) => `${c.account_id}: ${c.message ?? 'unhealthy'}`).join('; ')}`);
      return `codex health checks executed: ${checks.length} (${healthy} healthy)`;
    };
    cb.codexDrainOne = async () => {
      const owner = w.codexDrainer?.();
      if (owner) {
        owner.kick();
        return 'codex queue is drained by the serve drainer (woken)';
      }
      const r = (await (await pool()).drainOne()) as { status?: string; task_id?: string; account_id?: string; message?: string } | null | undefined;
      if (!r || r.status === 'noop') return 'codex queue not drained (empty or throttled)';
      if (r.status === 'error') throw new Error(r.message ?? 'codex drain failed');
      return `codex task ${r.task_id ?? '?'} executed on ${r.account_id ?? '?'}`;
    };
  }
  return cb;
}

/** The Pulse service of this process, wired. */
export async function openWiredPulse(w: PulseWiring): Promise<PulseService> {
  const { openPulse } = await import('../pulse/index.js');
  return openPulse({ workspace: w.settings.workspace, settings: w.settings.pulse, codexEnabled: codexInUse(w.settings.provider, w.settings.codex), callbacks: pulseCallbacks(w) });
}
