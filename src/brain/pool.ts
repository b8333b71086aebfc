// CodexPool: the account pool behind the Codex provider and the `codex` CLI. submit() runs a
// task now or queues it; drainOne() runs the queue head; every decision is made on the state
// file under its lock, and the CLI runs (minutes) happen outside it with a reserved use.
import { AppError, ConfigError, ValidationError } from '../kernel/index.js';
import { rfc3339 } from '../kernel/index.js';
import { emitEvent } from '../observe/index.js';
import { runCodexProcess, type CodexExecutor } from '../providers/index.js';
import { CODEX_INSTALL_HINT, type CodexAccountConfig, type Settings } from '../config/index.js';
import type { Telemetry } from '../store/index.js';
import { SPAWN_FAILURE_PREFIX, checkAccount, type CodexRunner, type LoginHooks } from './health.js';
import { applyOutcome, failsOverOn, runOnAccount, type RunOutcome } from './execute.js';
import { loginCommand, loginFingerprint } from './accounts.js';
import { statusView } from './status.js';
import { guardReason, nextCapacityAt, normalizeAccounts, pickAccount, views, type GuardReason } from './rate.js';
import { StateFile, type PoolState, type QueuedTask } from './state.js';
import { deliverResult, friendlyFailure, type TaskDoneHook } from './deliver.js';
import { recoverRunning, trackInflight, untrackInflight } from './recover.js';
import { PoolTelemetry } from './pool-telemetry.js';

/** A queued task that fails this many times is dropped and its chat told. */
export const MAX_TASK_ATTEMPTS = 3;

export interface CodexPoolDeps {
  /** Runs the CLI (default: runCodexProcess). Tests swap in fakes. */
  runner?: CodexRunner;
  /** Wall clock in epoch ms for windows, health intervals and timestamps (default Date.now). */
  clock?: () => number;
  /** Called when a queued task finished (answer or final failure): the app's late-answer door. */
  onTaskDone?: TaskDoneHook;
  /** Where the `codex` telemetry section goes; default: an own Telemetry flushed after each call. */
  telemetry?: Telemetry;
  /** Device-auth login of a configured account: shows the URL and code (serve: the notify channel). */
  onDeviceCode?: LoginHooks['onDeviceCode'];
}

export interface TaskInput {
  prompt: string;
  purpose: string;
  requestId?: string;
  sessionId?: string;
  origin?: { channel?: string; chatId?: string };
  signal?: AbortSignal;
}

export type GenerateResult =
  | { status: 'executed'; task_id: number; account_id: string; latency_ms: number; output: string }
  | { status: 'queued'; task_id: number; queue_depth: number; reason: string };

export type DrainResult =
  | { status: 'noop'; message: string }
  | { status: 'executed'; task_id: number; account_id: string; latency_ms: number; output: string }
  | { status: 'error'; message: string };

export const DRAIN_NOOP: DrainResult = { status: 'noop', message: 'queue is empty or throttled by rate-limit guard' };

type Reserved = { task: QueuedTask; account: CodexAccountConfig; reservedAt: number };

export class CodexPool implements CodexExecutor {
  readonly settings: Settings;
  readonly clock: () => number;
  private readonly file: StateFile;
  private readonly runner: CodexRunner;
  private readonly onTaskDone: TaskDoneHook | undefined;
  private readonly telemetry: PoolTelemetry;
  private readonly workListeners = new Set<() => void>();
  private loginHooks: LoginHooks;

  constructor(settings: Settings, deps: CodexPoolDeps = {}) {
    this.settings = settings;
    this.clock = deps.clock ?? Date.now;
    this.file = new StateFile(settings.workspace);
    this.runner = deps.runner ?? runCodexProcess;
    this.onTaskDone = deps.onTaskDone;
    this.telemetry = new PoolTelemetry(settings, deps.telemetry);
    this.loginHooks = { onDeviceCode: deps.onDeviceCode };
  }

  get enabled(): boolean {
    return this.settings.codex.enabled;
  }

  get statePath(): string {
    return this.file.path;
  }

  /** Where device-auth URLs and codes go (serve: the operator's notify targets). */
  setDeviceCodeHandler(fn: LoginHooks['onDeviceCode']): void {
    this.loginHooks = { ...this.loginHooks, onDeviceCode: fn };
  }

  /** Wakes a drainer when work was queued (in this process). */
  onWork(fn: () => void): () => void {
    this.workListeners.add(fn);
    return () => this.workListeners.delete(fn);
  }

  /** CodexExecutor: run now, or queue (the answer then goes to the task's chat when it runs). */
  async submit(task: Parameters<CodexExecutor['submit']>[0]): ReturnType<CodexExecutor['submit']> {
    const r = await this.generate({ ...task, origin: task.origin });
    return r.status === 'executed'
      ? { status: 'executed', output: r.output, latencyMs: r.latency_ms, accountId: r.account_id }
      : { status: 'queued', taskId: String(r.task_id), queueDepth: r.queue_depth, reason: r.reason };
  }

  /** The original's submit, with the `codex generate` JSON shape. */
  async generate(input: TaskInput): Promise<GenerateResult> {
    this.assertEnabled();
    const prompt = input.prompt.trim();
    if (!prompt) throw new ValidationError('codex prompt is empty');
    const checked = await this.tickHealth(false);
    // A missing CLI may have been installed since: re-check now rather than after the interval.
    if (checked.length === 0 && this.cliMissing(this.file.peek())) await this.tickHealth(true);
    const now = this.clock();
    const cap = this.settings.codex.queueCapacity;
    const decision = await this.update((s) => {
      const id = s.next_task_id++;
      if (s.queue.length >= cap) return { kind: 'full' as const, len: s.queue.length };
      const task: QueuedTask = {
        id,
        purpose: input.purpose.trim() || 'general',
        prompt,
        queued_at: rfc3339(new Date(now)),
        queued_at_ms: now,
        attempts: 0,
        last_error: null,
        request_id: input.requestId ?? null,
        session_id: input.sessionId ?? null,
        channel: input.origin?.channel ?? null,
        chat_id: input.origin?.chatId ?? null,
      };
      // Strict FIFO as the original: new work waits behind older work (a drainer runs it next).
      const reason: GuardReason | 'queue_backpressure' | null = s.queue.length > 0 ? 'queue_backpressure' : this.guard(s);
      // Queuing cannot help when the CLI itself is missing: say so now (with the install hint).
      const missing = reason === 'no_healthy_accounts' ? this.cliMissing(s) : undefined;
      if (missing) return { kind: 'missing' as const, message: missing };
      const picked = reason ? undefined : this.reserve(s, task, now, 'direct');
      if (!picked) {
        s.queue.push(task);
        return { kind: 'queued' as const, id, depth: s.queue.length, reason: reason ?? 'no_healthy_accounts' };
      }
      return { kind: 'run' as const, ...picked };
    });
    if (decision.kind === 'full') {
      await this.telemetry.flush();
      throw new AppError('codex', `codex queue is full (${decision.len}/${cap})`, { hint: 'Run `rusty-pinch serve` (it drains the queue) or `rusty-pinch codex drain-one`.' });
    }
    if (decision.kind === 'missing') {
      await this.telemetry.flush();
      throw new AppError('codex_spawn', decision.message, { hint: CODEX_INSTALL_HINT });
    }
    if (decision.kind === 'queued') {
      emitEvent('codex_task_queued', { task_id: decision.id, queue_depth: decision.depth, reason: decision.reason });
      for (const fn of this.workListeners) fn();
      await this.telemetry.flush();
      return { status: 'queued', task_id: decision.id, queue_depth: decision.depth, reason: decision.reason };
    }
    let current: Reserved = decision;
    const tried = new Set<string>();
    for (;;) {
      const outcome = await this.run(current, input.signal);
      if (!outcome.ok && failsOverOn(outcome.kind)) {
        // Auth, quota or rate limit are this account's trouble: try the next healthy one, else queue.
        tried.add(current.account.id);
        const next = await this.failover(current, outcome, tried);
        if (next.kind === 'run') {
          current = next;
          continue;
        }
        emitEvent('codex_task_queued', { task_id: current.task.id, queue_depth: next.depth, reason: next.reason });
        for (const fn of this.workListeners) fn();
        await this.telemetry.flush();
        return { status: 'queued', task_id: current.task.id, queue_depth: next.depth, reason: next.reason };
      }
      await this.finish(current, outcome, 'direct');
      await this.telemetry.flush();
      if (!outcome.ok) {
        throw new AppError('codex', `codex task ${current.task.id} failed on account '${current.account.id}': ${outcome.message}`, { hint: outcome.hint });
      }
      return { status: 'executed', task_id: current.task.id, account_id: current.account.id, latency_ms: outcome.latencyMs, output: outcome.output };
    }
  }

  /** Records a failed direct run and, in the same locked step, reserves another account or queues the task. */
  private async failover(r: Reserved, outcome: RunOutcome, tried: Set<string>): Promise<({ kind: 'run' } & Reserved) | { kind: 'queued'; depth: number; reason: string }> {
    const now = this.clock();
    try {
      return await this.update((s) => {
        this.applyIn(s, r, outcome, 'direct', now);
        const next = this.reserve(s, r.task, now, 'direct', tried);
        emitEvent('codex_failover', { task_id: r.task.id, from_account: r.account.id, to_account: next?.account.id ?? null, reason: outcome.ok ? null : outcome.kind });
        if (next) return { kind: 'run' as const, ...next };
        s.queue.push(r.task);
        return { kind: 'queued' as const, depth: s.queue.length, reason: this.guard(s) ?? (outcome.ok ? 'no_healthy_accounts' : outcome.kind) };
      });
    } finally {
      untrackInflight(this.inflightKey(r));
    }
  }

  /** Runs the head of the queue once, if quota and health allow (the original's drain_once). */
  async drainOne(): Promise<DrainResult> {
    this.assertEnabled();
    const depth = await this.update((s) => s.queue.length);
    if (depth === 0) {
      await this.telemetry.flush();
      return DRAIN_NOOP;
    }
    await this.tickHealth(false);
    const now = this.clock();
    const picked = await this.update((s) => {
      if (s.queue.length === 0 || this.guard(s)) return undefined;
      const task = s.queue[0]!;
      const r = this.reserve(s, task, now, 'queued');
      if (r) s.queue.shift();
      return r;
    });
    if (!picked) {
      await this.telemetry.flush();
      return DRAIN_NOOP;
    }
    const outcome = await this.run(picked, undefined);
    // An answer is handed on (session + outbox) before the task leaves `running`: a crash in
    // between re-runs the task after recovery (at least once) instead of losing the answer.
    if (outcome.ok) await deliverResult(this.settings, picked.task, { status: 'executed', text: outcome.output, accountId: picked.account.id, latencyMs: outcome.latencyMs }, this.onTaskDone);
    const dropped = await this.finish(picked, outcome, 'queued');
    if (!outcome.ok && dropped) await deliverResult(this.settings, picked.task, { status: 'failed', text: friendlyFailure(), message: outcome.message, attempts: picked.task.attempts + 1 }, this.onTaskDone);
    await this.telemetry.flush();
    if (!outcome.ok) {
      const tail = dropped ? `; dropped after ${MAX_TASK_ATTEMPTS} attempts` : outcome.aborted ? '; requeued' : '; will be retried';
      const hint = outcome.hint ? ` (${outcome.hint})` : '';
      return { status: 'error', message: `codex task ${picked.task.id} failed on account '${picked.account.id}': ${outcome.message}${hint}${tail}` };
    }
    return { status: 'executed', task_id: picked.task.id, account_id: picked.account.id, latency_ms: outcome.latencyMs, output: outcome.output };
  }

  /** `codex status`: the original's object, read from the state: it spawns nothing and writes nothing. */
  async status(): Promise<Record<string, unknown>> {
    this.assertEnabled();
    const s = this.file.peek();
    const c = this.settings.codex;
    const now = this.clock();
    normalizeAccounts(s, c.accounts, now, c.rateWindowSecs * 1000);
    // Runs of dead processes show as queued (the next writer requeues them for real).
    recoverRunning(s, this.file.path, now, c.timeoutSecs * 1000, MAX_TASK_ATTEMPTS);
    return statusView(this.settings, s);
  }

  /** Health checks: every account when forced, else those not checked within the interval. */
  async healthcheck(force: boolean): Promise<{ checks: Array<{ account_id: string; healthy: boolean; message: string | null }> }> {
    this.assertEnabled();
    const checks = await this.tickHealth(force);
    await this.telemetry.flush();
    return { checks };
  }

  /**
   * Lock-free look at the state for a drainer: queue depth, whether a drain could run now,
   * when quota returns, and whether a health check is due.
   */
  peekWork(): { queueDepth: number; canRun: boolean; capacityAt: number | undefined; healthDueAt: number } {
    const s = this.file.peek();
    const now = this.clock();
    const c = this.settings.codex;
    normalizeAccounts(s, c.accounts, now, c.rateWindowSecs * 1000);
    const vs = views(s, c.accounts);
    const intervalMs = c.healthcheckIntervalSecs * 1000;
    const healthDueAt = Math.min(...vs.map((v) => (v.state.last_healthcheck_ms === null ? now : v.state.last_healthcheck_ms + intervalMs)));
    return { queueDepth: s.queue.length, canRun: s.queue.length > 0 && guardReason(vs, c.rateLimitThresholdPercent) === null, capacityAt: nextCapacityAt(vs, c.rateLimitThresholdPercent, c.rateWindowSecs * 1000), healthDueAt };
  }

  private assertEnabled(): void {
    if (!this.settings.codex.enabled) throw new ConfigError('codex integration is disabled', { hint: 'Set RUSTY_PINCH_CODEX_ENABLED=true.' });
  }

  /** The spawn error when every account's last check failed because the CLI could not be started. */
  private cliMissing(s: PoolState): string | undefined {
    const errors = this.settings.codex.accounts.map((a) => s.accounts[a.id]?.last_error ?? '');
    return errors.length > 0 && errors.every((e) => e.startsWith(SPAWN_FAILURE_PREFIX)) ? errors[0] : undefined;
  }

  private guard(s: PoolState): GuardReason | null {
    return guardReason(views(s, this.settings.codex.accounts), this.settings.codex.rateLimitThresholdPercent);
  }

  /** Picks the best account, counts the use now (so other processes see it) and marks the task running. */
  private reserve(s: PoolState, task: QueuedTask, now: number, kind: 'direct' | 'queued', exclude?: Set<string>): Reserved | undefined {
    const v = pickAccount(views(s, this.settings.codex.accounts).filter((x) => !exclude?.has(x.config.id)), this.settings.codex.rateLimitThresholdPercent);
    if (!v) return undefined;
    v.state.uses.push(now);
    s.running.push({ task, account_id: v.config.id, owner_pid: process.pid, started_at_ms: now, reserved_at_ms: now, kind });
    return { task, account: v.config, reservedAt: now };
  }

  private async run(r: Reserved, signal: AbortSignal | undefined): Promise<RunOutcome> {
    // Tracked until finish() has recorded the outcome, so recovery never mistakes it for orphaned.
    trackInflight(this.inflightKey(r));
    try {
      return await runOnAccount(this.settings, r.account, r.task.prompt, this.runner, signal);
    } catch (err) {
      untrackInflight(this.inflightKey(r));
      throw err;
    }
  }

  private inflightKey(r: Reserved): string {
    return `${this.file.path}#${r.task.id}`;
  }

  /** Applies the outcome; a failed queued task goes back to the head, or is dropped at the limit (returns true). */
  private async finish(r: Reserved, outcome: RunOutcome, kind: 'direct' | 'queued'): Promise<boolean> {
    const now = this.clock();
    try {
      return await this.applyFinish(r, outcome, kind, now);
    } finally {
      untrackInflight(this.inflightKey(r));
    }
  }

  /** Takes the run out of `running` and applies its outcome to the account (inside an update). */
  private applyIn(s: PoolState, r: Reserved, outcome: RunOutcome, kind: 'direct' | 'queued', now: number): void {
    s.running = s.running.filter((e) => e.task.id !== r.task.id);
    const cooled = applyOutcome(s, r.account, r.reservedAt, outcome, now, this.settings.codex.rateWindowSecs * 1000, this.settings);
    if (outcome.ok && outcome.usage) this.telemetry.addUsage(outcome.usage);
    emitEvent('codex_task', {
      task_id: r.task.id,
      account_id: r.account.id,
      kind,
      status: outcome.ok ? 'ok' : 'error',
      latency_ms: outcome.ok ? outcome.latencyMs : null,
      rate_limited: cooled,
      error_kind: outcome.ok ? null : outcome.kind,
      error: outcome.ok ? null : outcome.message,
      usage: outcome.ok ? (outcome.usage ?? null) : null,
    });
  }

  private applyFinish(r: Reserved, outcome: RunOutcome, kind: 'direct' | 'queued', now: number): Promise<boolean> {
    return this.update((s) => {
      this.applyIn(s, r, outcome, kind, now);
      if (outcome.ok || kind === 'direct') return false;
      if (!outcome.aborted) {
        r.task.attempts++;
        r.task.last_error = outcome.message;
      }
      if (r.task.attempts >= MAX_TASK_ATTEMPTS) return true;
      s.queue.unshift(r.task);
      return false;
    });
  }

  /** Runs due (or all, when forced) health checks; claims them first so no other process repeats them. */
  private async tickHealth(force: boolean): Promise<Array<{ account_id: string; healthy: boolean; message: string | null }>> {
    const c = this.settings.codex;
    const now = this.clock();
    const due = await this.update((s) => {
      const list = c.accounts.filter((a) => {
        const last = s.accounts[a.id]?.last_healthcheck_ms ?? null;
        return force || last === null || now - last >= c.healthcheckIntervalSecs * 1000 || last > now;
      });
      for (const a of list) {
        const acc = s.accounts[a.id]!;
        acc.last_healthcheck_ms = now;
        acc.last_healthcheck_at = rfc3339(new Date(now));
      }
      return list;
    });
    if (due.length === 0) return [];
    const results = await Promise.all(due.map((a) => checkAccount(this.settings, a, this.runner, undefined, this.loginHooks)));
    // What real runs said wins over the local login check: a 401 holds until the login changes.
    due.forEach((a, i) => {
      const r = results[i]!;
      const pinned = this.file.peek().accounts[a.id]?.auth_failed_fingerprint ?? null;
      if (r.healthy && pinned !== null && pinned === loginFingerprint(this.settings, a)) {
        results[i] = { healthy: false, message: `the API refused this account's login (401); log in again: ${loginCommand(a.id)}`, loggedIn: true };
      }
    });
    await this.update((s) => {
      due.forEach((a, i) => {
        const acc = s.accounts[a.id]!;
        if (results[i]!.healthy) acc.auth_failed_fingerprint = null;
        if (results[i]!.quota) acc.quota = results[i]!.quota!;
        acc.healthy = results[i]!.healthy;
        // A cooling account keeps its rate-limit error until the cooldown ends.
        if (results[i]!.healthy && acc.cooldown_until_ms !== null) return;
        acc.last_error = results[i]!.message;
      });
    });
    const checks = due.map((a, i) => ({ account_id: a.id, healthy: results[i]!.healthy, message: results[i]!.message }));
    emitEvent('codex_healthcheck', { forced: force, checks });
    for (const ch of checks) if (ch.healthy) for (const fn of this.workListeners) fn();
    return checks;
  }

  /** Locked read-modify-write: windows rolled, accounts added, dead runs recovered, snapshot kept. */
  private update<T>(fn: (s: PoolState) => T): Promise<T> {
    const c = this.settings.codex;
    const now = this.clock();
    return this.file.update((s) => {
      const before = JSON.stringify(s);
      normalizeAccounts(s, c.accounts, now, c.rateWindowSecs * 1000);
      recoverRunning(s, this.file.path, now, c.timeoutSecs * 1000, MAX_TASK_ATTEMPTS);
      const result = fn(s);
      this.telemetry.record(s);
      return { result, changed: JSON.stringify(s) !== before };
    });
  }
}
