// The non-rollback gate: semantic versions (an optional leading `v`; pre-releases order below
// their release), the artifact strictly newer than what runs.
import semver from 'semver';
import { EvolutionError } from '../errors.js';

export function parseVersion(raw: string): string {
  const t = raw.trim();
  if (!t) throw new EvolutionError('version value is empty');
  const v = semver.valid(t.replace(/^[vV]/, ''));
  if (!v) throw new EvolutionError(`version '${raw}' is not a semantic version (MAJOR.MINOR.PATCH[-pre][+build])`);
  return v;
}

export function assertUpgrade(current: string, artifact: string): void {
  const c = parseVersion(current);
  const a = parseVersion(artifact);
  if (!semver.gt(a, c)) throw new EvolutionError(`artifact version '${artifact}' must be greater than current version '${current}' to prevent rollback`);
}
