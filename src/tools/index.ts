// Tools face: registry, guardrails, built-ins, and the tool/approval interfaces.
export { ToolRegistry } from './registry.js';
export { parseToolInvocation, checkToolInput, codePoints, trimUnicode, MAX_TOOL_ARGS_CHARS, MAX_TOOL_NAME_CHARS, type ToolInvocation } from './guardrails.js';
export { builtinTools, modelInfoTool, sessionTailTool, timeNowTool } from './builtins.js';
export { refuseRiskyGate, type Tool, type ToolContext, type ApprovalGate } from './types.js';
