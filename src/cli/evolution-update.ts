// `evolution stage-update | apply-staged-update | audit-verify | lock-status | force-unlock |
// recovery-status | active-slot-status | failure-circuit-status | failure-circuit-reset`, with
// the original's flags, messages and `{status, report}` JSON. The work is imported lazily.
import type { Command } from 'commander';
import { action, type CommandOutput } from './output.js';
import { positiveInt } from './parse-flags.js';
import { VERSION } from './version.js';
import type { UpdateContext } from '../evolution/index.js';

interface Opened {
  ctx: UpdateContext;
  /** Merges fields into telemetry.evolution. */
  record(fields: Record<string, unknown>): Promise<void>;
}

async function open(): Promise<Opened> {
  const { loadSettings } = await import('../config/index.js');
  const { openUpdateContext } = await import('../evolution/index.js');
  const { Telemetry } = await import('../store/index.js');
  const s = loadSettings();
  const ctx = openUpdateContext({ env: s.env, workspace: s.workspace, runningVersion: VERSION, currentBinary: process.argv[1] ?? '' });
  return {
    ctx,
    async record(fields) {
      const t = new Telemetry(s.telemetryFile);
      const prev = t.read().evolution ?? {};
      t.setSection('evolution', { ...prev, ...fields, updated_at: new Date().toISOString() });
      await t.flush();
    },
  };
}

async function confirmRequired(confirm: boolean | undefined, command: string): Promise<void> {
  if (confirm) return;
  const { UsageError } = await import('../kernel/index.js');
  throw new UsageError(`evolution ${command} requires explicit confirmation. Re-run with --confirm`);
}

interface StageOpts {
  artifact: string;
  currentBinary?: string;
  currentVersion?: string;
  artifactVersion?: string;
  artifactSha256?: string;
  artifactSha256SumsFile?: string;
  artifactSha256SumsSignatureFile?: string;
  artifactSha256Entry?: string;
}

export function registerEvolutionUpdateCommands(evolution: Command): void {
  evolution
    .command('stage-update')
    .description('verify a release package and unpack it into the passive slot')
    .requiredOption('--artifact <path>', 'release tarball (rusty-pinch-<version>-<os>-<arch>.tar.gz)')
    .option('--current-binary <path>', 'the build to return to (default: the one running)')
    .option('--current-version <v>', 'version of what runs now (default: this build)')
    .option('--artifact-version <v>', "expected artifact version (checked against its package.json)")
    .option('--artifact-sha256 <hex>', 'expected SHA-256 of the artifact')
    .option('--artifact-sha256-sums-file <path>', 'SHA256SUMS file listing the artifact')
    .option('--artifact-sha256-sums-signature-file <path>', 'Ed25519 detached signature of the SHA256SUMS file')
    .option('--artifact-sha256-entry <name>', 'entry name in SHA256SUMS (default: the artifact file name)')
    .action(
      action(async (o: StageOpts): Promise<CommandOutput> => {
        const { ctx } = await open();
        const { stageUpdate } = await import('../evolution/index.js');
        const out = await stageUpdate(ctx, {
          artifact: o.artifact,
          currentBinary: o.currentBinary,
          currentVersion: o.currentVersion,
          artifactVersion: o.artifactVersion,
          artifactSha256: o.artifactSha256,
          sumsFile: o.artifactSha256SumsFile,
          sumsSignatureFile: o.artifactSha256SumsSignatureFile,
          sumsEntry: o.artifactSha256Entry,
        });
        return { json: out };
      }),
    );

  evolution
    .command('apply-staged-update')
    .description('switch to the staged slot, health-check it, roll back on failure')
    .option('--healthcheck-args <args>', 'arguments for the health check run of the new version (whitespace separated)', 'doctor')
    .option('--healthcheck-timeout-secs <n>', 'health check deadline', positiveInt, 30)
    .option('--confirm', 'confirm the apply (required by default)')
    .action(
      action(async (o: { healthcheckArgs: string; healthcheckTimeoutSecs: number; confirm?: boolean }): Promise<CommandOutput> => {
        const { ctx, record } = await open();
        if (ctx.settings.requireApplyConfirm && !o.confirm) {
          const { UsageError } = await import('../kernel/index.js');
          throw new UsageError('evolution apply is blocked by policy. Re-run with --confirm or set RUSTY_PINCH_EVOLUTION_REQUIRE_APPLY_CONFIRM=false');
        }
        const { applyStagedUpdate, evolutionTelemetryFields } = await import('../evolution/index.js');
        const { emitEvent, flushEvents } = await import('../observe/index.js');
        const args = o.healthcheckArgs.split(/\s+/).filter(Boolean);
        // Test seam (only with RUSTY_PINCH_TEST=1): freeze right after a checkpoint so a test can kill -9 there.
        const pauseAt = process.env.RUSTY_PINCH_TEST === '1' ? process.env.RUSTY_PINCH_TEST_PAUSE_AT : undefined;
        const onCheckpoint = (status: string): void => {
          emitEvent('evolution_checkpoint', { status });
          if (status === pauseAt) {
            flushEvents(); // the test waits for this line, then kills the frozen process
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
          }
        };
        try {
          const out = await applyStagedUpdate(ctx, { healthcheckArgs: args.length ? args : ['doctor'], timeoutSecs: o.healthcheckTimeoutSecs, launcher: process.env.RUSTY_PINCH_LAUNCHER, env: process.env }, onCheckpoint);
          const r = out.report;
          await record({
            ...evolutionTelemetryFields(ctx),
            last_apply_status: r.status,
            last_apply_from_slot: r.from_slot,
            last_apply_to_slot: r.to_slot,
            rollback_performed: r.rollback_performed,
            healthcheck_ok: r.healthcheck_ok,
            healthcheck_timed_out: r.healthcheck_timed_out,
            healthcheck_timeout_secs: r.healthcheck_timeout_secs,
            healthcheck_exit_code: r.healthcheck_exit_code,
            manifest_path: r.manifest_path,
          });
          return { json: out };
        } catch (err) {
          await record(evolutionTelemetryFields(ctx)).catch(() => undefined);
          throw err;
        }
      }),
    );

  evolution
    .command('audit-verify')
    .description('check every record and the hash chain of the evolution audit log')
    .action(action(async () => ({ json: { status: 'ok', report: (await open()).ctx.audit.verify() } })));

  evolution
    .command('lock-status')
    .description('who holds the evolution lock, and whether it is stale')
    .action(action(async () => ({ json: { status: 'ok', report: (await open()).ctx.lock.status() } })));

  evolution
    .command('force-unlock')
    .description('remove the evolution lock (after review)')
    .option('--confirm', 'confirm the removal')
    .action(
      action(async (o: { confirm?: boolean }) => {
        await confirmRequired(o.confirm, 'force-unlock');
        return { json: { status: 'ok', report: (await open()).ctx.lock.forceUnlock() } };
      }),
    );

  evolution
    .command('recovery-status')
    .description('staged update state, drift between marker and manifest, what to do next')
    .action(
      action(async () => {
        const { recoveryStatus } = await import('../evolution/index.js');
        return { json: { status: 'ok', report: recoveryStatus((await open()).ctx) } };
      }),
    );

  evolution
    .command('active-slot-status')
    .description('the active-slot marker and its signature')
    .action(
      action(async () => {
        const { ctx, record } = await open();
        const { inspectMarker, evolutionTelemetryFields } = await import('../evolution/index.js');
        const report = inspectMarker(ctx.updates, ctx.marker);
        await record(evolutionTelemetryFields(ctx));
        return { json: { status: 'ok', report: { ...report, running_slot: process.env.RUSTY_PINCH_ACTIVE_SLOT ?? 'installed', running_version: VERSION } } };
      }),
    );

  evolution
    .command('failure-circuit-status')
    .description('consecutive apply failures and whether apply is blocked')
    .action(
      action(async () => {
        const { ctx, record } = await open();
        const { evolutionTelemetryFields } = await import('../evolution/index.js');
        await record(evolutionTelemetryFields(ctx));
        return { json: { status: 'ok', report: ctx.circuit.report() } };
      }),
    );

  evolution
    .command('failure-circuit-reset')
    .description('close the failure circuit (after remediation)')
    .option('--confirm', 'confirm the reset')
    .action(
      action(async (o: { confirm?: boolean }) => {
        await confirmRequired(o.confirm, 'failure-circuit-reset');
        const { ctx, record } = await open();
        const { evolutionTelemetryFields } = await import('../evolution/index.js');
        const report = ctx.circuit.reset();
        await record(evolutionTelemetryFields(ctx));
        return { json: { status: 'ok', report } };
      }),
    );
}
