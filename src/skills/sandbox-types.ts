// What one sandboxed skill run is given: its source, arguments, budgets and host functions.
import type { HttpResult } from '../net/index.js';

export interface SandboxLimits {
  memoryBytes: number;
  /** QuickJS stack; keep <= 256 KiB (DEPENDENCIES.md §1). */
  stackBytes: number;
  timeoutMs: number;
  maxOutputBytes: number;
  maxHttpCalls: number;
  maxLogCalls: number;
}

export interface SandboxHost {
  log(message: string): void;
  now(): string;
  http(method: 'GET' | 'POST', url: string, body: string | undefined, signal: AbortSignal): Promise<HttpResult>;
}

export interface SandboxInput {
  source: string;
  filename: string;
  args: string;
  limits: SandboxLimits;
  host: SandboxHost;
  /** Read-only string globals (tests point the weather skill at a loopback server this way). */
  constants?: Record<string, string>;
  signal?: AbortSignal;
}
