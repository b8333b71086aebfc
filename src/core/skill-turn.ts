// `skills run`: one skill run recorded as a `skill` path turn, as the original did: the session
// gets `/skill <name> <args>` and the JSON answer, the bus sees skill/skill_out, telemetry counts it.
import { TurnError, errorChain } from '../kernel/index.js';
import { nextRequestId } from './ids.js';
import { rfc3339Now } from '../kernel/index.js';
import { codePoints } from '../tools/index.js';
import { validateSessionId } from '../store/index.js';
import type { Runtime } from './runtime.js';
import type { SkillManager } from '../skills/index.js';

export interface SkillTurnResult {
  requestId: string;
  /** Pretty JSON `{"output","skill","status":"ok"}` (also stored as the assistant message). */
  text: string;
  output: string;
}

/** Runs the skill; throws TurnError (`request_id=…: <chain>`) after recording a failed turn. */
export async function runSkillTurn(runtime: Runtime, skills: SkillManager, sessionId: string, name: string, args: string): Promise<SkillTurnResult> {
  const requestId = nextRequestId();
  const skillName = name.trim();
  const skillArgs = args.trim();
  const command = `/skill ${skillName} ${skillArgs}`.trim();
  const base = { tool_name: skillName || null, attempts: null, user_chars: codePoints(command) };
  const started = Date.now();
  try {
    validateSessionId(sessionId);
  } catch (err) {
    throw failed(runtime, requestId, sessionId, base, started, err);
  }
  return runtime.queue.run(sessionId, async () => {
    try {
      const output = await skills.run(skillName, skillArgs);
      const text = JSON.stringify({ output, skill: skillName, status: 'ok' }, null, 2);
      runtime.sessions.append(sessionId, { role: 'user', content: command, timestamp: rfc3339Now(), request_id: requestId }, { role: 'assistant', content: text, timestamp: rfc3339Now() });
      runtime.bus.publish('skill', `${skillName}:${skillArgs}`);
      runtime.bus.publish('skill_out', `${skillName}:${output}`);
      runtime.recordTurn(requestId, sessionId, { ...base, path: 'skill', status: 'ok', latency_ms: Date.now() - started, response_chars: codePoints(output), error: null });
      return { requestId, text, output };
    } catch (err) {
      throw failed(runtime, requestId, sessionId, base, started, err);
    }
  });
}

function failed(runtime: Runtime, requestId: string, sessionId: string, base: { tool_name: string | null; attempts: null; user_chars: number }, started: number, err: unknown): TurnError {
  const message = errorChain(err);
  runtime.recordTurn(requestId, sessionId, { ...base, path: 'skill', status: 'error', latency_ms: Date.now() - started, response_chars: 0, error: message });
  return new TurnError(requestId, message);
}
