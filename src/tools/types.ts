// Tool interface: deterministic commands run by `/tool <name> [args]` or by the model.
import type { Settings } from '../config/index.js';

export interface ToolContext {
  sessionId: string;
  requestId: string;
  settings: Settings;
  /** `user` for `/tool` typed by a person, `assistant` when the model asked for it. */
  source: 'user' | 'assistant';
  /** The last `count` messages of the current session (before this turn). */
  sessionTail(count: number): Promise<{ messages: Array<{ role: string; content: string; timestamp: string }>; total: number }>;
  signal?: AbortSignal;
}

export interface Tool {
  /** `[a-z0-9_-]`, at most 64 chars. */
  name: string;
  description: string;
  usage: string;
  /** Needs human approval before the model may run it (Pulse approvals). */
  risky?: boolean;
  /** Per-call risk (e.g. skill_run is risky only for skills marked risky). Overrides `risky`. */
  isRisky?(args: string): boolean;
  /**
   * JSON schema for native function calling. Default: `{ args: string }`, the same text a
   * person would type after `/tool <name>`.
   */
  parameters?: Record<string, unknown>;
  /** Converts function-call arguments (parsed JSON) to the `/tool` args text. Default: `.args`. */
  argsFromCall?(input: Record<string, unknown>): string;
  run(args: string, ctx: ToolContext): Promise<string>;
}

/** Gate for risky actions requested by the model; Pulse approvals implement it. */
export interface ApprovalGate {
  /** Returns `approved: true` to run now, otherwise a message for the model/user. */
  check(action: { kind: 'tool'; name: string; args: string; sessionId: string; requestId: string }): Promise<{ approved: boolean; message: string }>;
}

/** Default gate until Pulse approvals are wired: refuses with a clear message. */
export const refuseRiskyGate: ApprovalGate = {
  async check(action) {
    return { approved: false, message: `tool '${action.name}' is marked risky and needs operator approval, which is not available in this context` };
  },
};
