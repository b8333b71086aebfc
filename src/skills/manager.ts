// SkillManager: the skills directory (list, load, dry run, run) with starter-asset sync on first
// list/run, the outbound HTTP host wired to the URL policy, and a lazily started worker pool.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, ValidationError, errorChain } from '../kernel/index.js';
import { emitEvent } from '../observe/index.js';
import type { SkillSettings } from '../config/index.js';
import { SKILL_EXT, normalizeSkillName } from './names.js';
import { parseSkillMeta, readSkillHeader } from './meta.js';
import { defaultAssetsDir, syncSkillAssets } from './assets.js';
import { DirNames } from './dir-names.js';
import type { Resolver } from '../net/index.js';
import type { SkillWorkerPool } from './worker-pool.js';
import type { SandboxHost, SandboxLimits } from './sandbox.js';

export const MAX_SKILL_BYTES = 128 * 1024;
export const SKILL_STACK_BYTES = 256 * 1024;
export const MAX_LOG_CALLS = 200;

export interface SkillEntry {
  name: string;
  path: string;
  size_bytes: number;
  modified_at: string | null;
  description: string | null;
}

export interface SkillManagerOptions {
  /** Starter skills to copy in (default: the installed package's assets/skills). */
  assetsDir?: string | null;
  /** DNS resolver for the URL policy (tests). */
  resolver?: Resolver;
  /** Read-only string globals for skills (tests only: e.g. WTTR_BASE_URL). */
  constants?: Record<string, string>;
  /** Worker threads for runs (default 2). */
  workers?: number;
}

export interface LoadedSkill {
  name: string;
  path: string;
  source: string;
}

export class SkillManager {
  readonly dir: string;
  private synced = false;
  private pool: Promise<SkillWorkerPool> | undefined;

  constructor(workspace: string, readonly settings: SkillSettings, private readonly options: SkillManagerOptions = {}) {
    this.dir = join(workspace, 'skills');
    this.dirNames = new DirNames(this.dir, (files) =>
      files
        .filter((f) => f.endsWith(SKILL_EXT))
        .map((f) => f.slice(0, -SKILL_EXT.length))
        .filter((n) => /^[a-z0-9_-]{1,64}$/.test(n))
        .sort(),
    );
  }

  /** Copies missing starter skills once per manager (never overwrites). */
  syncAssets(): number {
    if (this.synced) return 0;
    this.synced = true;
    const assets = this.options.assetsDir === undefined ? defaultAssetsDir() : (this.options.assetsDir ?? undefined);
    return syncSkillAssets(assets, this.dir);
  }

  /** Valid skills directly in the directory, sorted by name. */
  list(): SkillEntry[] {
    this.syncAssets();
    if (!existsSync(this.dir)) return [];
    const out: SkillEntry[] = [];
    for (const file of readdirSync(this.dir).sort()) {
      if (!file.endsWith(SKILL_EXT)) continue;
      const name = file.slice(0, -SKILL_EXT.length);
      if (!/^[a-z0-9_-]{1,64}$/.test(name)) continue;
      const path = join(this.dir, file);
      try {
        const st = statSync(path);
        if (!st.isFile()) continue;
        out.push({ name, path, size_bytes: st.size, modified_at: st.mtime.toISOString().replace('Z', '+00:00'), description: parseSkillMeta(readSkillHeader(path)).description });
      } catch {
        // vanished or unreadable between readdir and stat: not listed
      }
    }
    return out;
  }

  /** Skill names only (the prompt needs them every turn): read again only when the directory changed. */
  names(): string[] {
    this.syncAssets();
    return this.dirNames.get();
  }

  private readonly dirNames: DirNames;

  pathFor(name: string): string {
    return join(this.dir, `${normalizeSkillName(name)}${SKILL_EXT}`);
  }

  load(rawName: string): LoadedSkill {
    const name = normalizeSkillName(rawName);
    this.syncAssets();
    const path = join(this.dir, `${name}${SKILL_EXT}`);
    let size: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) throw new Error('not a regular file');
      size = st.size;
    } catch (err) {
      throw new AppError('skill_not_found', `skill '${name}' not found at ${path}`, { cause: err });
    }
    if (size > MAX_SKILL_BYTES) throw new ValidationError(`skill '${name}' exceeds size limit (${size} bytes > ${MAX_SKILL_BYTES})`);
    const source = readFileSync(path, 'utf8');
    if (source.trim() === '') throw new ValidationError('skill script is empty');
    return { name, path, source };
  }

  /** Per-call risk check for skill_run (sync; reads only the file head). False when unreadable. */
  isRisky(rawName: string): boolean {
    try {
      return parseSkillMeta(readSkillHeader(this.pathFor(rawName))).risky;
    } catch {
      return false;
    }
  }

  /** Compiles without running main (syntax errors carry line and column). */
  async dryRun(rawName: string): Promise<void> {
    const skill = this.load(rawName);
    const pool = await this.getPool();
    try {
      await pool.compile(skill.source, `${skill.name}${SKILL_EXT}`);
    } catch (err) {
      throw new AppError('skill', `skill '${skill.name}' failed dry run: ${errorChain(err)}`, { cause: err });
    }
  }

  /** Compiles a source that is not (yet) in the skills directory (generated candidates). */
  async compileSource(name: string, source: string): Promise<void> {
    const pool = await this.getPool();
    await pool.compile(source, `${name}${SKILL_EXT}`);
  }

  /**
   * Runs `main(args)` of a source outside the skills directory, same budgets and URL policy.
   * `holdPosts`: http_post is checked against the URL policy but not sent (a candidate under
   * validation must not post data before the operator approved it); it gets status 202, no body.
   */
  async runSource(name: string, source: string, args: string, options: { signal?: AbortSignal; holdPosts?: boolean } = {}): Promise<string> {
    const pool = await this.getPool();
    const host = this.host(name, options.signal);
    if (options.holdPosts) {
      const send = host.http;
      host.http = async (method, url, body, runSignal) => {
        if (method !== 'POST') return send(method, url, body, runSignal);
        const { checkSkillUrl } = await import('../net/index.js');
        await checkSkillUrl(url, { allow: this.settings.httpAllow, resolver: this.options.resolver });
        emitEvent('skill_log', { level: 'info', timestamp: new Date().toISOString().replace('Z', '+00:00'), skill: name, message: `validation: http_post to ${url} held (not sent)` });
        return { status: 202, body: '' };
      };
    }
    return pool.run({ source, filename: `${name}${SKILL_EXT}`, args: args.trim(), limits: this.limits(), constants: this.options.constants, host });
  }

  /** Runs `main(args)` in the sandbox; the result as text. */
  async run(rawName: string, args: string, signal?: AbortSignal): Promise<string> {
    const skill = this.load(rawName);
    const pool = await this.getPool();
    const started = Date.now();
    try {
      const out = await pool.run({ source: skill.source, filename: `${skill.name}${SKILL_EXT}`, args: args.trim(), limits: this.limits(), constants: this.options.constants, host: this.host(skill.name, signal) });
      emitEvent('skill_run', { skill: skill.name, status: 'ok', latency_ms: Date.now() - started, output_chars: out.length });
      return out;
    } catch (err) {
      emitEvent('skill_run', { skill: skill.name, status: 'error', latency_ms: Date.now() - started, error: errorChain(err) });
      throw new AppError('skill', `skill '${skill.name}' execution failed: ${errorChain(err)}`, { cause: err });
    }
  }

  limits(): SandboxLimits {
    const s = this.settings;
    return { memoryBytes: s.memoryLimitMb * 1024 * 1024, stackBytes: SKILL_STACK_BYTES, timeoutMs: s.timeoutMs, maxOutputBytes: s.maxOutputBytes, maxHttpCalls: s.maxHttpCalls, maxLogCalls: MAX_LOG_CALLS };
  }

  /** Stops the worker threads (tests, `serve` shutdown). One-shot commands need not call it. */
  async close(): Promise<void> {
    this.dirNames.close();
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await (await pool).close();
  }

  private getPool(): Promise<SkillWorkerPool> {
    this.pool ??= import('./worker-pool.js').then(
      ({ SkillWorkerPool }) => new SkillWorkerPool({ size: this.options.workers ?? 2, graceMs: 1000, maxModuleBytes: Math.max(128 << 20, this.settings.memoryLimitMb * 4 * 1024 * 1024) }),
    );
    return this.pool;
  }

  private host(skill: string, signal: AbortSignal | undefined): SandboxHost {
    const s = this.settings;
    return {
      log: (message) => emitEvent('skill_log', { level: 'info', timestamp: new Date().toISOString().replace('Z', '+00:00'), skill, message }),
      now: () => new Date().toISOString().replace('Z', '+00:00'),
      http: async (method, url, body, runSignal) => {
        const { skillHttpRequest } = await import('../net/index.js');
        const signals = signal ? AbortSignal.any([runSignal, signal]) : runSignal;
        return skillHttpRequest(method, url, body, { policy: { allow: s.httpAllow, resolver: this.options.resolver }, timeoutMs: s.httpTimeoutSecs * 1000, maxBodyBytes: s.httpMaxBodyBytes, signal: signals });
      },
    };
  }
}
