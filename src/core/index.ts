// Core face: the turn. The runtime door (chat turns, non-chat model work, actions, late
// answers), the agent loop and the prompt. Composition lives in app/.
export { Runtime, type RuntimeDeps, type SkillRunner } from './runtime.js';
export { PromptBuilder } from './prompt.js';
export { nextRequestId } from './ids.js';
export { parseAssistantAction } from './actions.js';
// Re-exported for callers above core (app, cli): the kernel is the one place they are defined.
export * from '../kernel/index.js';
export { recordLateReply } from './late.js';
