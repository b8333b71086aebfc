// Skill name rules (the original's, reference extensions §2.1): trimmed, one `.js` suffix
// stripped, no path separators, only `[a-z0-9_-]`.
import { ValidationError } from '../kernel/index.js';

export const SKILL_EXT = '.js';
const MAX_NAME_CHARS = 64;

/** Returns the normalised name or throws the original's message. */
export function normalizeSkillName(raw: string): string {
  let name = raw.trim();
  if (name.endsWith(SKILL_EXT)) name = name.slice(0, -SKILL_EXT.length);
  if (name === '') throw new ValidationError('skill name is empty');
  if (name.includes('/') || name.includes('\\')) throw new ValidationError('skill name must not contain path separators');
  if (!/^[a-z0-9_-]+$/.test(name)) throw new ValidationError(`invalid skill name '${name}'. allowed chars: a-z, 0-9, '_' and '-'`);
  if (name.length > MAX_NAME_CHARS) throw new ValidationError(`skill name too long (max ${MAX_NAME_CHARS} characters)`);
  return name;
}

/** True when `raw` is already a valid, normalised skill name. */
export function isValidSkillName(raw: string): boolean {
  try {
    return normalizeSkillName(raw) === raw;
  } catch {
    return false;
  }
}
