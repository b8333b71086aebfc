// Core face: the runtime, its assembly, and the shared types and errors.
export { Runtime, type RuntimeDeps } from './runtime.js';
export { createApp, type App, type AppOptions } from './app.js';
export { KeyedQueue } from './keyed-queue.js';
export { MessageBus } from './bus.js';
export { PromptBuilder } from './prompt.js';
export { nextRequestId } from './ids.js';
export { rfc3339, rfc3339Now } from './time.js';
export { sortKeysDeep } from './json.js';
export { parseAssistantAction } from './actions.js';
export * from './errors.js';
export type * from './types.js';
