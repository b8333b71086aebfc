// Evolution face. Shared pieces (skill generation reuses them): the keyed hash-chained audit log,
// the exclusive operation lock, the error class, the policy. Self-update: stage, apply, status,
// the serve hand-over. The launcher's check (launch.ts) is bundled on its own, not exported here.
export { AuditChain, canonicalPayload, type AuditChainOptions, type AuditKey, type AuditVerifyReport } from './audit-chain.js';
export { EvolutionLock, type HeldLock, type LockPolicy, type LockStatus } from './lock.js';
export { EvolutionError } from './errors.js';
export { evolutionDoctor, type EvolutionDoctor, type PolicyCheck } from './doctor-policy.js';
export { evolutionSettings, parseKeyring, type EvolutionSettings, type SigningKey } from './settings.js';
export { nowStamp, sha256Hex, writeFileAtomic } from './fs-util.js';
export { openUpdateContext, type UpdateContext, type ContextInput } from './update/context.js';
export { stageUpdate, type StageInput, type StagePlan } from './update/stage.js';
export { applyStagedUpdate, type ApplyInput, type ApplyReport, type CheckpointHook } from './update/apply.js';
export { recoveryStatus, evolutionTelemetryFields } from './update/status.js';
export { inspectMarker, type IntegrityReport } from './update/marker.js';
export { serveHandover, type ServeHandover } from './update/serve-handover.js';
