// The agent loop: call the provider, run the tools it asks for (native function calls or the
// `/tool` line convention), feed the results back, up to a step limit. Every call and result
// is handed to `persist` so the exchange is kept in the session.
import { AppError, errorChain } from '../kernel/index.js';
import { TOOL_FOLLOW_UP, TOOL_LIMIT_REACHED, parseAssistantAction } from './actions.js';
import { toolRecord } from './records.js';
import type { ApprovalGate, ToolContext, ToolRegistry } from '../tools/index.js';
import type { ChatMessage, Provider, ProviderRequest, ProviderResult } from '../providers/index.js';
import type { SessionRecord } from '../store/index.js';

export const MAX_TEXT_TOOL_STEPS = 2;
export const MAX_NATIVE_TOOL_STEPS = 4;

export interface AgentInput {
  provider: Provider;
  tools: ToolRegistry;
  approvals: ApprovalGate;
  request: ProviderRequest;
  toolContext: ToolContext;
  persist(records: SessionRecord[]): Promise<void>;
}

export interface AgentResult {
  content: string;
  attempts: number;
  latencyMs: number;
  queued?: ProviderResult['queued'];
  toolNames: string[];
}

export async function runAgent(input: AgentInput): Promise<AgentResult> {
  const { provider } = input;
  const messages: ChatMessage[] = [...input.request.messages];
  const out: AgentResult = { content: '', attempts: 0, latencyMs: 0, toolNames: [] };
  const native = provider.nativeTools && input.tools.list().length > 0;
  const maxSteps = native ? MAX_NATIVE_TOOL_STEPS : MAX_TEXT_TOOL_STEPS;

  for (let step = 0; ; step++) {
    if (input.request.signal?.aborted) throw new AppError('aborted', 'turn aborted (shutting down)');
    const res = await provider.complete({ ...input.request, messages, tools: native ? input.tools.specs() : undefined });
    out.attempts += res.attempts;
    out.latencyMs += res.latencyMs;
    if (res.queued) return { ...out, content: res.content, queued: res.queued };

    if (native && res.toolCalls && res.toolCalls.length > 0) {
      if (step >= maxSteps) return { ...out, content: TOOL_LIMIT_REACHED };
      const assistant: ChatMessage = { role: 'assistant', content: res.content, tool_calls: res.toolCalls };
      messages.push(assistant);
      const records: SessionRecord[] = [toolRecord('assistant', res.content, 'tool_call', { tool_calls: res.toolCalls })];
      for (const call of res.toolCalls) {
        const result = await runTool(input, call.name, argsFromCall(input.tools, call.name, call.arguments));
        out.toolNames.push(call.name);
        messages.push({ role: 'tool', content: result, tool_call_id: call.id, name: call.name });
        records.push(toolRecord('tool', result, 'tool_result', { tool_call_id: call.id, name: call.name }));
      }
      await input.persist(records);
      continue;
    }

    // No tools offered (non-chat work that asked for a plain answer): a `/tool` line is just text.
    const action = native || input.tools.list().length === 0 ? undefined : parseAssistantAction(res.content);
    if (!action) return { ...out, content: res.content };
    if (step >= maxSteps) return { ...out, content: TOOL_LIMIT_REACHED };
    const command = action.args ? `/tool ${action.name} ${action.args}` : `/tool ${action.name}`;
    const result = await runTool(input, action.name, action.args);
    out.toolNames.push(action.name);
    const resultText = `[tool:${action.name} args=${action.args}]\n${result}`;
    messages.push({ role: 'assistant', content: command }, { role: 'system', content: resultText }, { role: 'user', content: TOOL_FOLLOW_UP });
    await input.persist([
      toolRecord('assistant', command, 'tool_call'),
      toolRecord('system', resultText, 'tool_result'),
    ]);
  }
}

/** Runs one model-requested tool; failures become text for the model, never a thrown turn. */
async function runTool(input: AgentInput, name: string, args: string): Promise<string> {
  const tool = input.tools.get(name);
  if (tool && (tool.isRisky ? tool.isRisky(args) : tool.risky)) {
    const verdict = await input.approvals.check({ kind: 'tool', name, args, sessionId: input.toolContext.sessionId, requestId: input.toolContext.requestId });
    if (!verdict.approved) return `[tool:${name} error] ${verdict.message}`;
  }
  try {
    return await input.tools.execute(name, args, { ...input.toolContext, source: 'assistant' });
  } catch (err) {
    return `[tool:${name} error] ${errorChain(err)}`;
  }
}

function argsFromCall(tools: ToolRegistry, name: string, json: string): string {
  let parsed: unknown;
  try {
    parsed = json.trim() ? JSON.parse(json) : {};
  } catch {
    return json; // let the tool's guardrails judge the raw text
  }
  const obj = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  const tool = tools.get(name);
  if (tool?.argsFromCall) return tool.argsFromCall(obj);
  if (obj.args === undefined || obj.args === null) return '';
  return typeof obj.args === 'string' ? obj.args : JSON.stringify(obj.args);
}
