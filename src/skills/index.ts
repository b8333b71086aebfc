// Skills face: the manager (list/load/dry-run/run in sandboxed QuickJS workers), the skill
// tools, the name rules and the outbound URL policy. QuickJS loads lazily on the first run.
export { SkillManager, MAX_SKILL_BYTES, type SkillEntry, type SkillManagerOptions, type LoadedSkill } from './manager.js';
export { skillListTool, skillRunTool } from './skill-tools.js';
export { normalizeSkillName, isValidSkillName } from './names.js';
export { parseSkillMeta, type SkillMeta } from './meta.js';
// The outbound HTTP policy is net/'s (shared with Pulse); re-exported for the skills' callers.
export { checkSkillUrl, parseSkillUrl, UrlPolicyError, systemResolver, blockedAddressReason, type Resolver, type ResolvedAddress, type UrlPolicy } from '../net/index.js';
