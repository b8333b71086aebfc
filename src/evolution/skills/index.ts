// Evolution I face: skills the assistant writes, tests, corrects and promotes itself.
export { generateSkill, resumeQueuedGeneration, queuedGenerationRequests, promoteApproved, riskReasons, codeSummary, GENERATION_SESSION, MAX_ATTEMPTS_LIMIT, type GenerationDeps, type GenerationInput, type GenerationResult, type GenerationStatus, type ApprovalRequest } from './pipeline.js';
export { SkillLibrary, type HistoryEntry } from './library.js';
export { parseCandidate, type Candidate } from './reply.js';
export { inferSampleArgs } from './infer-args.js';
export { validateCandidate, type SkillSandbox, type Validation } from './validate.js';
export { skillInstructions, skillRequest, correctionRequest } from './contract.js';
export { appendSkillAudit, auditPath, auditSpoolDir, generationsToday } from './audit.js';
export { skillCreateTool, type SkillProposal } from './skill-create-tool.js';
export { SkillBusyError, claimGeneration, runningGeneration, queuedGeneration, QUEUED_STALE_MS, CLAIM_HEARTBEAT_SECS, CLAIM_STALE_SECS } from './claim.js';
