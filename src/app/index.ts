// App face: the composition root for one-shot commands. The long-running roots (serve, the
// channel host, Pulse and Codex for one-shot commands) are separate modules the CLI imports
// directly and lazily, so `run` does not load grammY or prom-client.
export { createApp, type App, type AppOptions } from './create-app.js';
