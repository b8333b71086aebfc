// Core face: the runtime and its assembly for one-shot commands. The long-running composition
// roots (serve, channel host, Pulse wiring, skill turns) are separate modules that the CLI
// imports directly and lazily, so `run` does not load grammY or prom-client.
export { Runtime, type RuntimeDeps } from './runtime.js';
export { createApp, type App, type AppOptions } from './app.js';
export { MessageBus } from './bus.js';
export { PromptBuilder } from './prompt.js';
export { nextRequestId } from './ids.js';
export { parseAssistantAction } from './actions.js';
// Re-exported for callers above core (cli): the kernel is the one place they are defined.
export * from '../kernel/index.js';
