// Settings: every section read from one merged environment (.env + process env), with the
// list of invalid values doctor reports.
import { registerSecrets, registerSecretsFromEnv } from '../kernel/index.js';
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
  registerUrlPasswords(env);
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

/**
 * Registers the password of every `scheme://user:password@host` in any variable (API bases,
 * bridge URLs, exporters), raw and percent-decoded, so no message can show it in any form.
 */
export function registerUrlPasswords(env: EnvMap): void {
  const found: string[] = [];
  for (const value of Object.values(env)) {
    if (!value || !value.includes('@')) continue;
    for (const m of value.matchAll(/\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:([^\s/@]+)@/gi)) {
      const raw = m[1] as string;
      found.push(raw);
      try {
        found.push(decodeURIComponent(raw));
      } catch {
        // not valid percent-encoding: the raw form is enough
      }
    }
  }
  registerSecrets(found);
}

/** Loads the dotenv file (strict when RUSTY_PINCH_ENV_FILE is set) and reads every section. */
export function loadSettings(processEnv: EnvMap = process.env, cwd = process.cwd()): Settings {
  const { env, file } = loadEnv(processEnv, cwd);
  return settingsFromEnv(env, cwd, file);
}
