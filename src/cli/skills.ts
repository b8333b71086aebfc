// CLI group: skills list|dry-run|run (issue 4). Work is imported lazily inside each action.
import type { Command } from 'commander';
import { action } from './output.js';

export function registerSkillCommands(program: Command): void {
  const skills = program.command('skills').description('sandboxed JavaScript skills in the workspace');
  skills
    .command('list')
    .description('list installed skills (copies missing starter skills first)')
    .action(
      action(async () => {
        const m = await manager();
        return { json: { skills: m.list(), skills_dir: m.dir } };
      }),
    );
  skills
    .command('dry-run')
    .description('compile a skill without running main (reports syntax errors with line numbers)')
    .requiredOption('--name <skill>', 'skill name')
    .action(
      action(async (opts: { name: string }) => {
        const m = await manager();
        await m.dryRun(opts.name);
        return { json: { skill: opts.name.trim(), status: 'ok' } };
      }),
    );
  skills
    .command('run')
    .description('run a skill as a turn and print {"output","skill","status"}')
    .option('--session <id>', 'session id', 'default')
    .requiredOption('--name <skill>', 'skill name')
    .option('--args <text>', 'arguments passed to main(args)', '')
    .action(
      action(async (opts: { session: string; name: string; args: string }) => {
        const [{ createApp }, { TurnError }] = await Promise.all([import('../app/index.js'), import('../kernel/index.js')]);
        const app = await createApp();
        try {
          // A skill run is a turn at the runtime door: the session gets `/skill <name> <args>` and the JSON answer.
          const skill = opts.name.trim();
          const res = await app.runtime.act({ sessionId: opts.session, kind: 'skill', name: opts.name, args: opts.args, format: (output) => JSON.stringify({ output, skill, status: 'ok' }, null, 2) });
          if (res.status === 'error') throw new TurnError(res.requestId, res.error ?? res.text);
          return { stdout: res.text };
        } finally {
          await app.close();
        }
      }),
    );
}

async function manager() {
  const [{ loadSettings }, { SkillManager }] = await Promise.all([import('../config/index.js'), import('../skills/index.js')]);
  const s = loadSettings();
  return new SkillManager(s.workspace, s.skills);
}
