// The launcher's slot check (dist/launch-verify.js, loaded by dist/launcher.js only when a marker
// exists), so the code that verifies a slot always comes from the installed build, never from
// the slot. It picks the active slot's dist/cli.js when its marker
// verifies (HMAC sidecar when required or present) and its files match the fingerprint taken at
// activation (lstat only: inode, size, mtime, ctime — no hashing on the hot path), else the
// installed dist/cli.js. A `serve` start hands over to dist/launch-probation.js (probation count
// and rollback), loaded only then: short commands load neither it nor node:crypto (unless the
// marker has a sidecar to verify).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from './fs-util.js';
import { activeSlotPolicy } from './settings.js';
import { inspectMarker } from './update/marker.js';
import { checkFingerprint, parseFingerprintHeader } from './update/tree.js';

import type { LaunchChoice } from './launch-choice.js';

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Why the slot cannot run, or undefined when it can. */
function verifySlot(updates: string, slot: string, integrity: ReturnType<typeof inspectMarker>, full: boolean): { reason?: string; version?: string } {
  if (integrity.require_signed ? integrity.status !== 'valid' : integrity.signature_verified === false) return { reason: integrity.message };
  const fp = readOrUndefined(join(updates, `${slot}.fingerprint`));
  if (fp === undefined) return { reason: `slot ${slot} has no activation fingerprint` };
  const header = parseFingerprintHeader(fp);
  if (!header || header.slot !== slot) return { reason: `slot ${slot} fingerprint is not valid` };
  if (integrity.status === 'valid' && integrity.fingerprint_sha256 !== sha256Hex(fp)) return { reason: `slot ${slot} fingerprint does not match the signed marker` };
  const diff = checkFingerprint(join(updates, slot), fp, full);
  return diff ? { reason: diff } : { version: header.version };
}

/** `merged`: the process env with the .env file applied; `workspace`: resolved. */
export async function verifyAndChoose(installedCli: string, argv: string[], env: NodeJS.ProcessEnv, merged: Record<string, string | undefined>, workspace: string): Promise<LaunchChoice> {
  const installed: LaunchChoice = { entry: installedCli };
  const updates = join(workspace, 'updates');
  const integrity = inspectMarker(updates, activeSlotPolicy(merged));
  const slot = integrity.slot;
  if (!slot) return { ...installed, notice: `rusty-pinch: active update slot rejected (${integrity.message}); running the installed build` };
  // Long-lived or deciding starts check every file; short commands every dir and our own files.
  const full = argv[2] === 'serve' || Boolean(env.RUSTY_PINCH_LAUNCH_EXPECT_SLOT);
  const v = verifySlot(updates, slot, integrity, full);
  if (v.reason) return { ...installed, notice: `rusty-pinch: active update slot ${slot} rejected (${v.reason}); running the installed build` };

  if (argv[2] === 'serve' && !env.RUSTY_PINCH_EVOLUTION_HEALTHCHECK) {
    const { serveProbation } = await import('./launch-probation.js');
    const error = serveProbation(installedCli, merged, workspace, slot, v.version);
    if (error) {
      const again = await verifyAndChoose(installedCli, argv, env, merged, workspace);
      return { ...again, notice: `rusty-pinch: ${error}${again.notice ? `; ${again.notice.replace(/^rusty-pinch: /, '')}` : ''}` };
    }
  }
  return { entry: join(updates, slot, 'dist', 'cli.js'), slot, version: v.version, notice: `rusty-pinch: running update slot ${slot} (version ${v.version})` };
}
