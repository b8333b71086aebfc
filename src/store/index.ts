// Store face: durable files (atomic JSON, JSONL, locks), sessions, telemetry.
export { writeFileAtomic, writeJsonAtomic, readJsonFile, type JsonReadResult } from './atomic-file.js';
export { withFileLock, tryWithFileLockSync, type LockOptions } from './lock.js';
export { JsonStateFile, type StateCodec, type StateFileOptions } from './state-file.js';
export * as schema from './schema.js';
export { SchemaError, type Check } from './schema.js';
export { appendJsonLine, appendLines, readLastLines, AppendFile, encodeLines } from './jsonl.js';
export { countLines } from './line-count.js';
export { SessionStore, type SessionRecord, type RecentView } from './session-store.js';
export { validateSessionId, sanitizeSessionId, legacySessionFileName, MAX_SESSION_ID_CHARS } from './session-id.js';
export { Telemetry, emptySnapshot, decodeSnapshot, type TelemetrySnapshot, type SectionName } from './telemetry.js';
export { Outbox, outboxPath, type OutboxRecord, type Settlement } from './outbox.js';
export { OutboxDrainer, type OutboxDrainerOptions } from './outbox-drainer.js';
