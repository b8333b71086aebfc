// Composition for Pulse: connects the service to the runtime (model assessment for OODA,
// approved tool runs appended to the session), telemetry, the Codex pool and notifications.
// Pulse itself only sees callbacks; the app is created lazily, only when a callback needs it.
import { codexInUse, type Settings } from '../config/index.js';
import { Telemetry } from '../store/index.js';
import type { ApprovalGate } from '../tools/index.js';
import type { PulseCallbacks, PulseScheduler, PulseService } from '../pulse/index.js';
import { rfc3339Now } from '../kernel/index.js';
import type { App } from './app.js';
import type { Runtime } from './runtime.js';
import type { ServeComponent, ServeContext } from './serve-components.js';

/** The part of the Codex pool face Pulse's default jobs use. */
export interface CodexPoolLike {
  healthcheck(force: boolean): Promise<unknown>;
  drainOne(): Promise<unknown>;
}

export interface PulseWiring {
  settings: Settings;
  /** The app (created on first use when a callback needs the runtime). */
  app: () => Promise<App>;
  telemetry: Telemetry;
  notify?: (target: string, text: string) => Promise<void>;
  /** The Codex pool (opened on first use). */
  codex?: () => Promise<CodexPoolLike>;
}

export function pulseCallbacks(w: PulseWiring): PulseCallbacks {
  const cb: PulseCallbacks = {
    telemetry: (section) => w.telemetry.setSection('pulse', section),
    runTool: async (call) => {
      const rt = (await w.app()).runtime;
      let output: string;
      try {
        output = await rt.tools.execute(call.name, call.args, rt.toolContext(call.request_id, call.session_id, 'assistant'));
      } catch (err) {
        await rt.sessions.append(call.session_id, { role: 'assistant', content: `[tool:${call.name} approved] error: ${(err as Error).message}`, timestamp: rfc3339Now(), request_id: call.request_id });
        throw err;
      }
      await rt.sessions.append(call.session_id, { role: 'assistant', content: `[tool:${call.name} approved]\n${output}`, timestamp: rfc3339Now(), request_id: call.request_id });
      return output;
    },
    runSkill: async (name, args) => {
      const rt = (await w.app()).runtime;
      if (!rt.tools.get('skill_run')) throw new Error('skills are not available (no skill_run tool registered)');
      return rt.tools.execute('skill_run', args ? `${name} ${args}` : name, rt.toolContext('pulse', 'pulse', 'user'));
    },
  };
  if (w.notify) cb.notify = w.notify;
  // The local provider only echoes; asking it to assess would pretend. Skip it.
  if (w.settings.provider !== 'local') {
    cb.assess = async (prompt) => {
      const rt = (await w.app()).runtime;
      const res = await rt.provider.complete({
        requestId: `pulse-ooda-${Date.now().toString(36)}`,
        sessionId: 'pulse',
        messages: [
          { role: 'system', content: 'You assess operational observations for an operator. Answer briefly, in plain text.' },
          { role: 'user', content: prompt },
        ],
        purpose: 'pulse_ooda',
      });
      if (res.queued) throw new Error(`the model is busy (queued as ${res.queued.taskId})`);
      return res.content;
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
      const r = (await (await pool()).drainOne()) as { status?: string; task_id?: string; account_id?: string; message?: string } | null | undefined;
      if (!r || r.status === 'noop') return 'codex queue not drained (empty or throttled)';
      if (r.status === 'error') throw new Error(r.message ?? 'codex drain failed');
      return `codex task ${r.task_id ?? '?'} executed on ${r.account_id ?? '?'}`;
    };
  }
  return cb;
}

/** A Pulse service wired to the app. */
export async function openWiredPulse(w: PulseWiring): Promise<PulseService> {
  const { openPulse } = await import('../pulse/index.js');
  return openPulse({ workspace: w.settings.workspace, settings: w.settings.pulse, codexEnabled: codexInUse(w.settings.provider, w.settings.codex), callbacks: pulseCallbacks(w) });
}

/** For one-shot `pulse …` commands: the app is created only if an action needs it. */
export async function openCliPulse(settings: Settings): Promise<{ pulse: PulseService; close(): Promise<void> }> {
  let app: Promise<App> | undefined;
  const telemetry = new Telemetry(settings.telemetryFile);
  const getApp = (): Promise<App> => (app ??= import('./app.js').then((m) => m.createApp({ settings })));
  const pulse = await openWiredPulse({ settings, app: getApp, telemetry, codex: codexPool(settings, telemetry) });
  return {
    pulse,
    close: async () => {
      if (app) await (await app).close();
      await telemetry.flush().catch(() => undefined);
    },
  };
}

/** Opens the Codex pool through the brain face (when it exposes one). */
export function codexPool(settings: Settings, telemetry: Telemetry): (() => Promise<CodexPoolLike>) | undefined {
  if (!settings.codex.enabled) return undefined;
  let pool: Promise<CodexPoolLike> | undefined;
  return () => (pool ??= import('../brain/index.js').then((m) => m.openCodexPool(settings, { telemetry })));
}

/** Installs the Pulse approval gate; the service is opened on the first risky tool call. */
export function installPulseApprovals(runtime: Runtime): void {
  let svc: Promise<PulseService> | undefined;
  const gate: ApprovalGate = {
    async check(action) {
      svc ??= import('../pulse/index.js').then((m) =>
        m.openPulse({ workspace: runtime.settings.workspace, settings: runtime.settings.pulse, codexEnabled: codexInUse(runtime.settings.provider, runtime.settings.codex), callbacks: { telemetry: (s) => runtime.telemetry.setSection('pulse', s) } }),
      );
      return (await svc).requestToolApproval(action);
    },
  };
  runtime.approvals = gate;
}

/** The `serve` part that runs the Pulse scheduler (jobs fire on their intervals). */
export function pulseServeComponent(): ServeComponent {
  let scheduler: PulseScheduler | undefined;
  return {
    name: 'pulse',
    async start(ctx: ServeContext) {
      const settings = ctx.app.settings;
      const pulse = await openWiredPulse({ settings, app: async () => ctx.app, telemetry: ctx.app.runtime.telemetry, notify: (t, text) => ctx.notify(t, text), codex: ctx.app.codex ? async () => ctx.app.codex as CodexPoolLike : codexPool(settings, ctx.app.runtime.telemetry) });
      const { PulseScheduler } = await import('../pulse/index.js');
      scheduler = new PulseScheduler(pulse);
      scheduler.start();
      pulse.reportTelemetry();
    },
    async stop() {
      await scheduler?.stop();
    },
    isReady: () => scheduler?.isRunning() ?? false,
  };
}
