// Config face: settings loading, env parsing, doctor.
export { loadSettings, settingsFromEnv, type Settings } from './settings.js';
export { loadEnv, parseEnvText, type EnvMap } from './env-file.js';
export { EnvReader, type ConfigIssue } from './env-reader.js';
export { HTTP_PROVIDERS, PROVIDERS, defaultModel, keyVariables, type CoreSettings } from './core-settings.js';
export { parseCodexAccounts, type CodexSettings, type CodexAccountConfig } from './codex-settings.js';
export type { ChannelSettings, TelegramSettings, WhatsAppSettings, DmPolicy } from './channel-settings.js';
export type { PulseSettings } from './pulse-settings.js';
export type { SkillSettings } from './skill-settings.js';
export type { OpsSettings } from './ops-settings.js';
export { otlpPackagesMissing, OTLP_PACKAGES, type OtlpSettings } from './otlp-settings.js';
export { runDoctor, formatDoctor, doctorJson, CODEX_INSTALL_HINT, type DoctorReport, type DoctorCheck } from './doctor.js';
export { findExecutable, runProbe, checkWritableDir } from './probe.js';
