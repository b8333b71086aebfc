// Settings: every section read from one merged environment (.env + process env), with the
// list of invalid values doctor reports.
import { registerSecretsFromEnv } from '../kernel/index.js';
import { loadEnv, type EnvMap } from './env-file.js';
import { EnvReader, type ConfigIssue } from './env-reader.js';
import { loadCoreSettings, type CoreSettings } from './core-settings.js';
import { loadChannelSettings, type ChannelSettings } from './channel-settings.js';
import { loadCodexSettings, type CodexSettings } from './codex-settings.js';
import { loadPulseSettings, type PulseSettings } from './pulse-settings.js';
import { loadSkillSettings, type SkillSettings } from './skill-settings.js';
import { loadOpsSettings, type OpsSettings } from './ops-settings.js';
import { loadOtlpSettings, type OtlpSettings } from './otlp-settings.js';

export interface Settings extends CoreSettings {
  channels: ChannelSettings;
  codex: CodexSettings;
  pulse: PulseSettings;
  skills: SkillSettings;
  ops: OpsSettings;
  otlp: OtlpSettings;
  /** The merged environment (for per-account key lookups); never printed. */
  env: EnvMap;
  envFile: string | undefined;
  issues: ConfigIssue[];
  cwd: string;
}

/** Builds Settings from an already merged environment (tests call this directly). */
export function settingsFromEnv(env: EnvMap, cwd = process.cwd(), envFile?: string): Settings {
  // Every configured secret is redacted by value from here on (logs, errors, state, output).
  registerSecretsFromEnv(env);
  const r = new EnvReader(env);
  const core = loadCoreSettings(r, cwd);
  return {
    ...core,
    channels: loadChannelSettings(r),
    codex: loadCodexSettings(r, core.provider, core.model, core.workspace, cwd),
    pulse: loadPulseSettings(r),
    skills: loadSkillSettings(r),
    ops: loadOpsSettings(r),
    otlp: loadOtlpSettings(r),
    env,
    envFile,
    issues: r.issues,
    cwd,
  };
}

/** Loads the dotenv file (strict when RUSTY_PINCH_ENV_FILE is set) and reads every section. */
export function loadSettings(processEnv: EnvMap = process.env, cwd = process.cwd()): Settings {
  const { env, file } = loadEnv(processEnv, cwd);
  return settingsFromEnv(env, cwd, file);
}
