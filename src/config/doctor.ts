// `doctor`: what is configured, and what is wrong with it. Levels: warning (works, but look)
// and error (something will fail). Exit 0 on ok/warning, 1 on error, so health checks can use it.
import { HTTP_PROVIDERS, PROVIDERS, keyVariables } from './core-settings.js';
import { checkWritableDir, findExecutable, runProbe } from './probe.js';
import type { Settings } from './settings.js';
import { VERSION } from '../kernel/index.js';
import { otlpPackagesMissing } from './otlp-settings.js';

export interface DoctorCheck {
  level: 'warning' | 'error';
  message: string;
  hint?: string;
}

export interface DoctorReport {
  status: 'ok' | 'warning' | 'error';
  fields: Array<[string, string | number | boolean]>;
  checks: DoctorCheck[];
}

export const CODEX_INSTALL_HINT =
  'Install the Codex CLI (npm install -g @openai/codex) and log in (codex login), or choose another provider: RUSTY_PINCH_PROVIDER=local (offline), openai, openrouter, groq or compatible.';

export async function runDoctor(s: Settings, options: { codexProbeTimeoutMs?: number } = {}): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const warn = (message: string, hint?: string) => checks.push({ level: 'warning', message, ...(hint ? { hint } : {}) });
  const error = (message: string, hint?: string) => checks.push({ level: 'error', message, ...(hint ? { hint } : {}) });

  for (const i of s.issues) warn(`${i.variable}=${JSON.stringify(i.value.slice(0, 60))} is invalid (${i.message}); using ${i.default_used}`);
  if (!(PROVIDERS as readonly string[]).includes(s.provider)) error(`unknown provider '${s.provider}'`, `Set RUSTY_PINCH_PROVIDER to one of: ${PROVIDERS.join(', ')}.`);
  else if (s.provider === 'anthropic') error("provider 'anthropic' is not implemented yet in rusty-pinch runtime", 'Use openrouter for Anthropic models.');
  if (!s.model) warn('RUSTY_PINCH_MODEL is empty');
  if (HTTP_PROVIDERS.includes(s.provider)) {
    if (!s.apiKey) error(`Provider '${s.provider}' requires API key but none was found`, `Set one of: ${keyVariables(s.provider).join(', ')}.`);
    if (!s.apiBase) error(`Provider '${s.provider}' requires API base but none was found`, 'Set RUSTY_PINCH_API_BASE (e.g. http://127.0.0.1:8000/v1).');
  }
  if (s.requestTimeoutSecs === 0) warn('RUSTY_PINCH_REQUEST_TIMEOUT_SECS should be > 0');
  if (s.retryMaxBackoffMs < s.retryBackoffMs) warn('RUSTY_PINCH_RETRY_MAX_BACKOFF_MS should be >= RUSTY_PINCH_RETRY_BACKOFF_MS');

  const tg = s.channels.telegram;
  if (tg.enabled && !tg.token) error('Telegram channel enabled but RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN is missing');
  const wa = s.channels.whatsapp;
  if (wa.enabled && !wa.bridgeUrl) error('WhatsApp channel enabled but RUSTY_PINCH_CHANNELS_WHATSAPP_BRIDGE_URL is missing');
  if (wa.enabled && wa.bridgeUrl && !/^wss?:\/\//i.test(wa.bridgeUrl)) error(`RUSTY_PINCH_CHANNELS_WHATSAPP_BRIDGE_URL must start with ws:// or wss:// (got '${wa.bridgeUrl.slice(0, 60)}')`);
  if (tg.enabled && tg.dmPolicy === 'open') warn('Telegram DM policy is open: anyone who finds the bot can use it');
  if (wa.enabled && wa.dmPolicy === 'open') warn('WhatsApp DM policy is open: anyone can use the assistant');

  let codexCli = 'not checked';
  if (s.provider === 'codex') {
    if (!s.codex.enabled) error('RUSTY_PINCH_PROVIDER=codex but RUSTY_PINCH_CODEX_ENABLED=false');
    if (!s.codex.cliBin) error('Codex enabled but RUSTY_PINCH_CODEX_CLI_BIN is empty', CODEX_INSTALL_HINT);
    else {
      const path = findExecutable(s.codex.cliBin, s.env.PATH ?? process.env.PATH);
      if (!path) {
        codexCli = 'missing';
        error(`Codex CLI '${s.codex.cliBin}' was not found on PATH`, CODEX_INSTALL_HINT);
      } else {
        const probe = await runProbe(path, ['--version'], options.codexProbeTimeoutMs ?? 5000, { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' });
        codexCli = probe.ok ? `ok (${probe.output})` : `failed (${probe.output})`;
        if (!probe.ok) error(`Codex CLI '${path}' did not answer --version: ${probe.output}`, CODEX_INSTALL_HINT);
      }
    }
  }

  for (const [name, dir] of [['RUSTY_PINCH_DATA_DIR', s.dataDir], ['RUSTY_PINCH_WORKSPACE', s.workspace]] as const) {
    const r = checkWritableDir(dir);
    if (!r.ok) error(`${name} (${dir}) is not usable: ${r.reason}`, 'Create the directory or point the variable at a writable location.');
  }

  if (s.otlp.endpoint) {
    const missing = otlpPackagesMissing();
    if (missing.length) warn(`OTLP export is configured (${s.otlp.endpointFrom}) but the OpenTelemetry packages are not installed (${missing.join(', ')}); turns are not exported`, 'Run `npm install --omit=dev` in the install directory (it adds only the optional OpenTelemetry packages), or unset the endpoint.');
    if (/:4317\/?$/.test(s.otlp.endpoint)) warn(`${s.otlp.endpointFrom} points at port 4317 (OTLP/gRPC); this export speaks OTLP/HTTP, usually on port 4318`);
  }

  const status = checks.some((c) => c.level === 'error') ? 'error' : checks.length ? 'warning' : 'ok';
  const fields: DoctorReport['fields'] = [
    ['provider', s.provider],
    ['model', s.model],
    ['api_base', s.apiBase ?? '<unset>'],
    ['data_dir', s.dataDir],
    ['workspace', s.workspace],
    ['telemetry_file', s.telemetryFile],
    ['env_file', s.envFile ?? '<none>'],
    ['request_timeout_secs', s.requestTimeoutSecs],
    ['request_retries', s.requestRetries],
    ['retry_backoff_ms', s.retryBackoffMs],
    ['retry_max_backoff_ms', s.retryMaxBackoffMs],
    ['api_key_loaded', Boolean(s.apiKey)],
    ['api_key_source', s.apiKeyFrom ?? '<unset>'],
    ['telegram_enabled', tg.enabled],
    ['telegram_allow_from_count', tg.allowFrom.length],
    ['telegram_dm_policy', tg.dmPolicy],
    ['whatsapp_enabled', wa.enabled],
    ['whatsapp_allow_from_count', wa.allowFrom.length],
    ['whatsapp_dm_policy', wa.dmPolicy],
    ['codex_enabled', s.codex.enabled],
    ['codex_cli', codexCli],
    ['codex_accounts_count', s.codex.accounts.length],
    ['codex_queue_capacity', s.codex.queueCapacity],
    ['codex_rate_limit_threshold_percent', s.codex.rateLimitThresholdPercent],
    ['pulse_auto_allow_actions_count', s.pulse.autoAllowActions.length],
    ['otlp_endpoint', s.otlp.endpoint ?? '<off>'],
    ['version', VERSION],
  ];
  return { status, fields, checks };
}

/** The human-readable report (the original's `key: value` lines, then status and findings). */
export function formatDoctor(r: DoctorReport): string {
  const lines = ['Rusty Pinch Doctor', ...r.fields.map(([k, v]) => `${k}: ${v}`), `status: ${r.status}`];
  for (const c of r.checks) {
    lines.push(`- ${c.level === 'error' ? 'error: ' : ''}${c.message}`);
    if (c.hint) lines.push(`  hint: ${c.hint}`);
  }
  return lines.join('\n');
}

export function doctorJson(r: DoctorReport): Record<string, unknown> {
  return { status: r.status, ...Object.fromEntries(r.fields), checks: r.checks };
}
