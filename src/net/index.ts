// Net face: the one outbound HTTP policy (URL checks, every resolved address checked, the
// connection pinned to a checked address) and its client. Skills and Pulse use it alike.
export { checkSkillUrl, checkSkillUrl as checkOutboundUrl, parseSkillUrl, normalizeAllowEntry, UrlPolicyError, systemResolver, MAX_URL_CHARS, type Resolver, type ResolvedAddress, type UrlPolicy, type CheckedTarget } from './url-policy.js';
export { blockedAddressReason, parseV6 } from './ip-policy.js';
export { skillHttpRequest, skillHttpRequest as outboundRequest, SkillHttpError, SKILL_USER_AGENT, type HttpCallOptions, type HttpResult } from './pinned-http.js';
