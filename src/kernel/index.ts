// Kernel face: what every layer shares and nothing of ours is below: the error classes (with
// secret redaction), timestamps, JSON helpers and the turn types.
export * from './errors.js';
export { redactSecrets, registerSecrets, registerSecretsFromEnv, isSecretVariable, clearRegisteredSecrets } from './redact.js';
export { rfc3339, rfc3339Now, sleep } from './time.js';
export { KeyedQueue } from './keyed-queue.js';
export { sortKeysDeep } from './json.js';
export type * from './types.js';
export { DEFAULT_MAX_MESSAGE_BYTES, MessageTooLargeError, oversize, tooLongReply } from './message-size.js';
