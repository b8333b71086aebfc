// Store face: durable files (atomic JSON, JSONL, locks), sessions, telemetry.
export { writeFileAtomic, writeJsonAtomic, readJsonFile, type JsonReadResult } from './atomic-file.js';
export { withFileLock, type LockOptions } from './lock.js';
export { appendJsonLine, appendLines, readLastLines, countLines, AppendFile, encodeLines } from './jsonl.js';
export { SessionStore, type SessionRecord } from './session-store.js';
export { validateSessionId, sanitizeSessionId, MAX_SESSION_ID_CHARS } from './session-id.js';
export { Telemetry, emptySnapshot, decodeSnapshot, type TelemetrySnapshot, type SectionName } from './telemetry.js';
