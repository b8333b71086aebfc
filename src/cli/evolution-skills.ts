// CLI: `evolution generate-skill` and `skills history|rollback` (issue 10). Registered into the
// `evolution` and `skills` groups whoever created them first; work is imported lazily.
import type { Command } from 'commander';
import { action, type CommandOutput } from './output.js';

function group(program: Command, name: string, description: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}


export function registerEvolutionSkillCommands(program: Command): void {
  const evolution = group(program, 'evolution', 'self-evolution: generated skills and blue/green self-update');
  evolution
    .command('generate-skill')
    .description('ask the model for a new skill, test it in the sandbox, feed failures back, and promote it')
    .requiredOption('--name <skill>', 'skill name (a-z, 0-9, _ and -)')
    .requiredOption('--goal <text>', 'what the skill should do')
    .option('--replace', 'replace an existing skill (the old version is kept: skills history / rollback)', false)
    .option('--max-attempts <n>', 'model attempts before giving up (1-10)', '3')
    .option('--json', 'print the full result as JSON', false)
    .action(
      action(async (opts: { name: string; goal: string; replace: boolean; maxAttempts: string; json: boolean }) => {
        const { runGenerateSkill } = await import('../app/evolution-skills.js');
        const { UsageError } = await import('../kernel/index.js');
        if (!/^\d+$/.test(opts.maxAttempts.trim())) throw new UsageError(`--max-attempts must be a whole number from 1 to 10, got '${opts.maxAttempts}'`);
        const result = await runGenerateSkill({ name: opts.name, goal: opts.goal, replace: opts.replace, maxAttempts: Number(opts.maxAttempts.trim()), origin: 'cli' });
        return report(result, opts.json);
      }),
    );

  const skills = group(program, 'skills', 'sandboxed JavaScript skills in the workspace');
  skills
    .command('history')
    .description('kept earlier versions of a skill (newest first)')
    .requiredOption('--name <skill>', 'skill name')
    .action(
      action(async (opts: { name: string }) => {
        const lib = await library(opts.name);
        return { json: { skill: lib.name, live_path: lib.exists() ? lib.livePath : null, versions: lib.history() } };
      }),
    );
  skills
    .command('rollback')
    .description('restore the newest kept version of a skill (the current one is kept in turn)')
    .requiredOption('--name <skill>', 'skill name')
    .action(
      action(async (opts: { name: string }) => {
        const lib = await library(opts.name);
        const r = lib.rollback();
        return { json: { skill: lib.name, status: 'rolled_back', restored_version: r.restored, kept_path: r.kept, live_path: lib.livePath } };
      }),
    );
}

async function library(name: string) {
  const [{ loadSettings }, { SkillLibrary }] = await Promise.all([import('../config/index.js'), import('../evolution/skills/index.js')]);
  const s = loadSettings();
  const { join } = await import('node:path');
  return new SkillLibrary(join(s.workspace, 'skills'), name);
}

interface ResultView {
  status: string;
  skill: string;
  model: string;
  attempts: number;
  max_attempts: number;
  staged_path: string | null;
  promoted_path: string | null;
  approval_token: string | null;
  error: string | null;
}

function report(r: ResultView, json: boolean): CommandOutput {
  const failed = r.status === 'failed';
  if (failed) {
    process.stderr.write(`Error: skill '${r.skill}' was not promoted after ${r.attempts} attempt(s): ${r.error ?? 'unknown error'}\n`);
    // The model never ran because the Codex CLI is missing: say how to fix it, or how to use the configured provider instead.
    if (r.model === 'codex_pool' && /failed to execute codex cli command/.test(r.error ?? '')) process.stderr.write(`hint: install the Codex CLI (npm install -g @openai/codex) and log in (codex login), or set RUSTY_PINCH_CODEX_ENABLED=false to generate with the configured provider (RUSTY_PINCH_PROVIDER)\n`);
  }
  if (json) return { json: r, exitCode: failed ? 1 : 0 };
  const lines = [`skill: ${r.skill}`, `status: ${r.status}`, `model: ${r.model}`, `attempts: ${r.attempts}/${r.max_attempts}`];
  if (r.promoted_path) lines.push(`promoted: ${r.promoted_path}`);
  if (r.staged_path) lines.push(`staged: ${r.staged_path}`);
  if (r.status === 'queued') lines.push('the request is queued in the Codex pool; `serve` finishes the generation and reports to the operator');
  if (r.approval_token) lines.push(`approval: waiting for the operator (token ${r.approval_token}; pulse approve --token ${r.approval_token})`);
  return { stdout: lines.join('\n'), exitCode: failed ? 1 : 0 };
}
