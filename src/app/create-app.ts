// Composition root for one-shot commands and `serve`: settings → stores → tools → provider →
// the runtime door, the durable outbox and this process's one PulseService (opened lazily).
// Only app/ knows the concrete classes; Pulse and the Brain get the door and the outbox as
// kernel interfaces.
import { loadSettings, type Settings } from '../config/index.js';
import { Outbox, SessionStore, Telemetry } from '../store/index.js';
import { ToolRegistry, builtinTools, type ApprovalGate } from '../tools/index.js';
import { createProvider, type Provider, type ProviderDeps } from '../providers/index.js';
import { Runtime } from '../core/index.js';
import { openWiredPulse, type CodexPoolLike } from './pulse-wiring.js';
import { attachOtlp } from './otlp-wiring.js';
import { SkillManager, skillListTool, skillRunTool, type SkillManagerOptions } from '../skills/index.js';
import type { CodexPool, CodexPoolDeps } from '../brain/index.js';
import type { PulseService } from '../pulse/index.js';
import { GENERATION_SESSION, generateSkill, skillCreateTool } from '../evolution/skills/index.js';
import { emitEvent } from '../observe/index.js';
import { errorChain, type DeferredReply } from '../kernel/index.js';
import { generationDeps, resumeAndReport, resumeAnswered } from './evolution-deps.js';
import { pulseSkillGenerator } from './pulse-skills.js';

export interface AppOptions {
  settings?: Settings;
  provider?: Provider;
  providerDeps?: ProviderDeps;
  /** Telemetry debounce; one-shot commands flush at close anyway. */
  telemetryDebounceMs?: number;
  /** Seams for the Codex pool built when the provider is codex (tests: runner, clock). */
  codexPool?: Pick<CodexPoolDeps, 'runner' | 'clock'>;
  /** Skill manager seams (tests: resolver, assets dir, constants). */
  skills?: SkillManagerOptions;
  /** Long-running processes with many chats: group-commit session appends through one log. */
  commitLog?: boolean;
}

export interface App {
  settings: Settings;
  /** The one door for model work and late answers. */
  runtime: Runtime;
  /** Read access for commands and tests (writes go through the door). */
  sessions: SessionStore;
  telemetry: Telemetry;
  tools: ToolRegistry;
  /** Skills (QuickJS loads lazily on the first run; nothing is scanned at startup). */
  skills: SkillManager;
  /** The one road out: everything delivered after its turn. */
  outbox: Outbox;
  /** The Codex account pool (provider codex): queued answers come back through the door. */
  codex?: CodexPool;
  /** This process's one PulseService (approvals gate, `serve`'s scheduler). */
  pulse(): Promise<PulseService>;
  /** The late-answer path (session and chat, then a queued skill generation resumes): serve's drainer uses it. */
  completeLate(reply: DeferredReply): Promise<void>;
  /** `serve` at start: resumes queued skill generations whose answer is in their session already (background, awaited at close). */
  resumeAnsweredGenerations(): void;
  /** Set by `serve`: the one Codex drainer, which Pulse's drain job wakes instead of draining. */
  codexDrainer?: { kick(): void };
  close(): Promise<void>;
}

export async function createApp(options: AppOptions = {}): Promise<App> {
  const settings = options.settings ?? loadSettings();
  const sessions = new SessionStore(settings.sessionsDir, { fsync: settings.sessionFsync, commitLog: options.commitLog });
  const telemetry = new Telemetry(settings.telemetryFile, options.telemetryDebounceMs);
  const outbox = new Outbox(settings.workspace);
  const tools = new ToolRegistry();
  for (const t of builtinTools) tools.register(t);
  const skills = new SkillManager(settings.workspace, settings.skills, options.skills);
  tools.register(skillListTool(() => skills));
  tools.register(skillRunTool(() => skills));
  // Model-proposed skills: generated in the background, always ending in an operator approval.
  const proposals = new Set<Promise<unknown>>();
  const track = (run: Promise<unknown>): void => {
    const p = run.catch((err) => emitEvent('warning', { message: `background skill generation failed: ${errorChain(err)}` }));
    proposals.add(p);
    void p.finally(() => proposals.delete(p));
  };
  tools.register(
    skillCreateTool((p) => {
      const run = generateSkill(generationDeps(app), { name: p.name, goal: p.goal, origin: 'tool', requireApproval: true }).catch((err) =>
        emitEvent('evolution_skill', { skill: p.name, step: 'finish', attempt: null, status: 'failed', error: errorChain(err) }),
      );
      track(run);
    }),
  );
  // Late answers: into their session and chat; a queued skill generation's answer also resumes it.
  const late = async (reply: DeferredReply): Promise<void> => {
    await runtime.completeDeferred(reply);
    if (reply.sessionId === GENERATION_SESSION) track(resumeAndReport(app, outbox, reply));
  };
  let providerDeps = options.providerDeps;
  let codex: CodexPool | undefined;
  const brain = async () => import('../brain/index.js');
  if (!options.provider && settings.provider === 'codex' && settings.codex.enabled && !providerDeps?.codexExecutor) {
    const { openCodexPool, deferredReplyHook } = await brain();
    codex = openCodexPool(settings, { ...options.codexPool, telemetry, onTaskDone: deferredReplyHook(late) });
    providerDeps = { ...providerDeps, codexExecutor: codex };
  }
  const provider = options.provider ?? (await createProvider(settings, providerDeps));

  let pulse: Promise<PulseService> | undefined;
  let lazyPool: Promise<CodexPoolLike> | undefined;
  const codexForPulse = (): Promise<CodexPoolLike> =>
    codex ? Promise.resolve(codex) : (lazyPool ??= brain().then((m) => m.openCodexPool(settings, { telemetry, onTaskDone: m.deferredReplyHook(late) })));
  const openPulse = (): Promise<PulseService> =>
    (pulse ??= openWiredPulse({ settings, door: async () => runtime, telemetry, outbox, codex: settings.codex.enabled ? codexForPulse : undefined, codexDrainer: () => app.codexDrainer, generateSkill: pulseSkillGenerator(settings, async () => app) }));
  // Risky model-requested tools wait for operator approval (Pulse opens on the first one).
  const approvals: ApprovalGate = { check: async (action) => (await openPulse()).requestToolApproval(action) };
  const runtime = new Runtime({ settings, sessions, telemetry, tools, provider, approvals, outbox, skills: { names: () => skills.names(), run: (name, args, signal) => skills.run(name, args, signal) } });
  // Optional OTLP export (off unless an endpoint is configured; the SDK loads only then).
  const stopOtlp = await attachOtlp(settings, runtime);
  const app: App = {
    settings,
    runtime,
    sessions,
    telemetry,
    tools,
    skills,
    outbox,
    codex,
    pulse: openPulse,
    completeLate: late,
    resumeAnsweredGenerations: () => track(resumeAnswered(app, outbox)),
    close: async () => {
      await Promise.allSettled([...proposals]);
      await runtime.close();
      await skills.close();
      await stopOtlp?.();
    },
  };
  return app;
}
