// Kernel face: what every layer shares and nothing of ours is below: the error classes (with
// secret redaction), timestamps, JSON helpers and the turn types.
export * from './errors.js';
export { redactSecrets, registerSecrets, registerSecretsFromEnv, isSecretVariable, clearRegisteredSecrets, containsKnownSecret } from './redact.js';
export { rfc3339, rfc3339Now, sleep } from './time.js';
export { KeyedQueue } from './keyed-queue.js';
export { sortKeysDeep } from './json.js';
export { VERSION } from './version.js';
export type * from './types.js';
export type { Component } from './component.js';
export { backoffDelay } from './backoff.js';
export { RecentKeys } from './recent-keys.js';
export { FRIENDLY_FAILURE, FRIENDLY_LATE_FAILURE } from './friendly.js';
export { parseTarget, type AgentTask, type ActionTask, type ActionReply, type TurnDoor, type OutboxKind, type OutboxMessage, type OutboxWriter } from './door.js';
export { DEFAULT_MAX_MESSAGE_BYTES, MessageTooLargeError, oversize, tooLongReply } from './message-size.js';
