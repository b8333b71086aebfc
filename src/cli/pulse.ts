// CLI group: pulse status|tick|ooda|approve|reject, pulse job …, pulse goal … (issue 5).
// Flags are parsed here; the work is imported lazily and runs on the shared state file.
import { InvalidArgumentError, type Command } from 'commander';
import { action, type CommandOutput } from './output.js';
import { asUsage, httpStatus, nonEmpty, positiveInt } from './parse-flags.js';
import type { PulseService } from '../pulse/index.js';

/** `--enabled [true|false]` (the original's flag could not be turned off). */
function boolValue(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new InvalidArgumentError(`expected true or false, got '${value}'`);
}

/**
 * Pulse state with its default jobs written down. Without a state file (or with a default job
 * missing) a read would invent the job anew each time, due one interval from *now*, so two
 * looks a second apart showed different next_due_at values. Written once, they stay put.
 */
async function settledView(p: PulseService): Promise<void> {
  if (p.applyDefaults(p.store.read())) await p.mutate(() => undefined);
}

/** Flag values checked by Pulse's own rules before any state is opened: refused → exit 2. */
async function checkInput<T>(check: (pulse: typeof import('../pulse/index.js')) => T): Promise<T> {
  const pulse = await import('../pulse/index.js');
  return asUsage(() => check(pulse), (err) => err instanceof pulse.PulseError && err.kind === 'invalid');
}

/** Blank goal ids and descriptions, with Pulse's messages. */
async function checkGoal(id: string, description?: string): Promise<void> {
  await checkInput((m) => {
    if (!id.trim()) throw new m.PulseError('goal id is empty');
    if (description !== undefined && !description.trim()) throw new m.PulseError('goal description is empty');
  });
}

/** Runs `fn` on a Pulse service for this process. PulseError is an AppError: the CLI maps it by code. */
async function withPulse(fn: (p: PulseService) => Promise<CommandOutput>): Promise<CommandOutput> {
  const { loadSettings } = await import('../config/index.js');
  const { openCliPulse } = await import('../app/cli-pulse.js');
  const { pulse, close } = await openCliPulse(loadSettings());
  try {
    return await fn(pulse);
  } finally {
    await close();
  }
}

export function registerPulseCommands(program: Command): void {
  const pulse = program.command('pulse').description('scheduler, OODA cycles, approvals and goals');

  pulse
    .command('status')
    .description('jobs (with recent run history), pending approvals, goals')
    .action(
      action(async () =>
        withPulse(async (p) => {
          await settledView(p);
          const json = p.status();
          return { json, text: async () => (await import('./views.js')).pulseStatusText(json) };
        }),
      ),
    );

  pulse
    .command('tick')
    .description('run the jobs that are due now, once')
    .action(
      action(async () =>
        withPulse(async (p) => {
          const { runTick } = await import('../pulse/index.js');
          const out = await runTick(p);
          await out.followUp;
          return { json: { executed_jobs: out.executed_jobs, results: out.results } };
        }),
      ),
    );

  pulse
    .command('ooda')
    .description('run one observe/orient/decide/act cycle')
    .requiredOption('--action <text>', 'the action to decide on (http <METHOD> <url>, notify <text>, skill <name>, tool <name>, or free text)', nonEmpty)
    .option('--observations <json>', 'JSON array of {source, key, value, severity}', '[]')
    .option('--goal <id>', 'goal this cycle works toward', nonEmpty)
    .action(
      action(async (opts: { action: string; observations: string; goal?: string }) => {
        const observations = await checkInput((m) => m.parseObservations(opts.observations));
        return withPulse(async (p) => {
          const { runOodaCycle } = await import('../pulse/index.js');
          return { json: await runOodaCycle(p, { action: opts.action, observations, goal: opts.goal }) };
        });
      }),
    );

  pulse
    .command('approve')
    .description('approve a pending action and perform it')
    .requiredOption('--token <token>', 'approval token', nonEmpty)
    .action(action(async (opts: { token: string }) => withPulse(async (p) => ({ json: await p.approve(opts.token) }))));

  pulse
    .command('reject')
    .description('reject a pending action')
    .requiredOption('--token <token>', 'approval token', nonEmpty)
    .option('--reason <text>', 'why', 'rejected by operator')
    .action(action(async (opts: { token: string; reason: string }) => withPulse(async (p) => ({ json: await p.reject(opts.token, opts.reason) }))));

  const job = pulse.command('job').description('scheduled jobs');
  job
    .command('list')
    .description('list jobs')
    .action(
      action(async () =>
        withPulse(async (p) => {
          await settledView(p);
          const json = { jobs: p.view().jobs };
          return {
            json,
            text: async () => {
              const [{ jobsRows }, { renderReadable }, { painter }] = await Promise.all([import('./views.js'), import('./readable.js'), import('./style.js')]);
              return renderReadable({ jobs: jobsRows(json.jobs) }, painter(process.stdout));
            },
          };
        }),
      ),
    );

  job
    .command('add-http-healthcheck')
    .description('add (or replace) an HTTP health-check job')
    .requiredOption('--id <id>', 'job id (a-z, 0-9, _ and -)')
    .requiredOption('--interval-secs <n>', 'seconds between checks', positiveInt)
    .requiredOption('--url <url>', 'http:// or https:// URL')
    .option('--expected-status <code>', 'expected HTTP status', httpStatus, 200)
    .option('--timeout-secs <n>', 'request timeout', positiveInt, 20)
    .option('--enabled [bool]', 'start enabled (true/false)', boolValue, true)
    .option('--disabled', 'add the job disabled')
    .action(
      action(async (opts: { id: string; intervalSecs: number; url: string; expectedStatus: number; timeoutSecs: number; enabled: boolean; disabled?: boolean }) => {
        // Syntax only here (private hosts allowed): the host policy is Pulse's, a failure (exit 1).
        await checkInput((m) => [m.validateJobId(opts.id), m.validateHealthcheckUrl(opts.url, true)]);
        return withPulse(async (p) => {
          const enabled = opts.disabled ? false : opts.enabled;
          const j = await p.addHttpHealthcheck({ id: opts.id, intervalSecs: opts.intervalSecs, url: opts.url, expectedStatus: opts.expectedStatus, timeoutSecs: opts.timeoutSecs, enabled });
          const hc = 'http_health_check' in (j.action as object) ? (j.action as { http_health_check: { url: string; timeout_secs: number } }).http_health_check : undefined;
          return {
            json: { status: 'ok', job_id: j.id, action: 'http_healthcheck', interval_secs: opts.intervalSecs, url: hc?.url ?? opts.url.trim(), expected_status: opts.expectedStatus, timeout_secs: hc?.timeout_secs ?? opts.timeoutSecs, enabled: j.enabled },
          };
        });
      }),
    );

  job
    .command('add-skill-generation')
    .description('add (or replace) a job that asks Evolution for a skill; the candidate waits for your approval')
    .requiredOption('--id <id>', 'job id (a-z, 0-9, _ and -)')
    .requiredOption('--interval-secs <n>', 'seconds between runs (a run asks only when no request for the skill is pending)', positiveInt)
    .requiredOption('--name <skill>', 'skill name (a-z, 0-9, _ and -)')
    .requiredOption('--goal <text>', 'what the skill should do (one line)')
    .option('--replace', 'ask for a new version even when the skill exists (the old one is kept)', false)
    .option('--enabled [bool]', 'start enabled (true/false)', boolValue, true)
    .option('--disabled', 'add the job disabled')
    .action(
      action(async (opts: { id: string; intervalSecs: number; name: string; goal: string; replace: boolean; enabled: boolean; disabled?: boolean }) => {
        // Settings first: their secrets are registered, so a goal carrying one is refused here.
        (await import('../config/index.js')).loadSettings();
        await checkInput((m) => [m.validateJobId(opts.id), m.validateSkillName(opts.name), m.validateNewSkillGoal(opts.goal)]);
        return withPulse(async (p) => {
          const enabled = opts.disabled ? false : opts.enabled;
          const j = await p.addSkillGeneration({ id: opts.id, intervalSecs: opts.intervalSecs, name: opts.name, goal: opts.goal, replace: opts.replace, enabled });
          const sg = (j.action as { skill_generation: { name: string; goal: string; replace: boolean } }).skill_generation;
          return { json: { status: 'ok', job_id: j.id, action: 'skill_generation', interval_secs: j.interval_secs, name: sg.name, goal: sg.goal, replace: sg.replace, enabled: j.enabled } };
        });
      }),
    );

  for (const [name, verb] of [
    ['remove', 'removed'],
    ['enable', 'enabled'],
    ['disable', 'disabled'],
  ] as const) {
    job
      .command(name)
      .description(`${name} a job`)
      .requiredOption('--id <id>', 'job id')
      .action(
        action(async (opts: { id: string }) => {
          await checkInput((m) => m.validateJobId(opts.id));
          return withPulse(async (p) => {
            const j = name === 'remove' ? await p.removeJob(opts.id) : await p.setJobEnabled(opts.id, name === 'enable');
            return { json: { status: 'ok', action: verb, job: j } };
          });
        }),
      );
  }

  const goal = pulse.command('goal').description('goals that OODA cycles work toward');
  goal
    .command('add')
    .description('add (or replace) a goal')
    .requiredOption('--id <id>', 'goal id')
    .requiredOption('--description <text>', 'what achieving it means')
    .action(
      action(async (opts: { id: string; description: string }) => {
        await checkGoal(opts.id, opts.description);
        return withPulse(async (p) => ({ json: { status: 'ok', goal_id: await p.addGoal(opts.id, opts.description) } }));
      }),
    );
  goal.command('list').description('list goals').action(action(async () => withPulse(async (p) => ({ json: { goals: p.view().goals } }))));
  goal
    .command('achieve')
    .description('mark a goal achieved by hand')
    .requiredOption('--id <id>', 'goal id')
    .action(
      action(async (opts: { id: string }) => {
        await checkGoal(opts.id);
        return withPulse(async (p) => ({ json: { status: 'ok', goal: await p.achieveGoal(opts.id) } }));
      }),
    );
}
