// .env parsing and precedence, typed reads with issues, and the settings defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEnv, parseEnvText, settingsFromEnv, loadSettings, parseCodexAccounts } from '../src/config/index.js';
import { ConfigError } from '../src/kernel/index.js';
import { tempDir } from './helpers.js';

test('parseEnvText: export prefix, comments, quotes, expansion, empty values', () => {
  const entries = parseEnvText(
    ['# comment', 'export A=1', 'B = two words  # trailing', "C='single ${A}'", 'D="double ${A}\\n"', 'E=', 'F=${A}-x', 'A=second', ''].join('\n'),
  );
  const map = new Map<string, string>();
  for (const [k, v] of entries) if (!map.has(k)) map.set(k, v);
  assert.equal(map.get('A'), '1');
  assert.equal(map.get('B'), 'two words');
  assert.equal(map.get('C'), 'single ${A}');
  assert.equal(map.get('D'), 'double 1\n');
  assert.equal(map.get('E'), '');
  assert.equal(map.get('F'), '1-x');
});

test('parseEnvText: garbage is a clear error naming the line', () => {
  assert.throws(() => parseEnvText('A=1\nthis is not valid\n'), /line 2: expected KEY=value/);
  assert.throws(() => parseEnvText('A="unterminated\n'), /unterminated double quote/);
  assert.throws(() => parseEnvText('1BAD=x\n'), /invalid variable name/);
  assert.throws(() => parseEnvText("A='x' junk\n"), /unexpected text after closing quote/);
});

test('loadEnv: process env wins, first key in the file wins', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'x.env');
    writeFileSync(file, 'RUSTY_PINCH_MODEL=from-file\nRUSTY_PINCH_MODEL=second\nRUSTY_PINCH_PROVIDER=openai\n');
    const { env } = loadEnv({ RUSTY_PINCH_ENV_FILE: file, RUSTY_PINCH_PROVIDER: 'local' }, dir);
    assert.equal(env.RUSTY_PINCH_MODEL, 'from-file');
    assert.equal(env.RUSTY_PINCH_PROVIDER, 'local');
  } finally {
    cleanup();
  }
});

test('loadEnv: RUSTY_PINCH_ENV_FILE is strict; ./.env is optional but must parse', () => {
  const { dir, cleanup } = tempDir();
  try {
    assert.throws(() => loadEnv({ RUSTY_PINCH_ENV_FILE: join(dir, 'missing.env') }, dir), (e: unknown) => e instanceof ConfigError && /failed loading RUSTY_PINCH_ENV_FILE from .*missing\.env/.test(e.message));
    writeFileSync(join(dir, 'bad.env'), 'not valid\n');
    assert.throws(() => loadEnv({ RUSTY_PINCH_ENV_FILE: join(dir, 'bad.env') }, dir), /line 1/);
    assert.equal(loadEnv({}, dir).file, undefined); // no ./.env: fine
    writeFileSync(join(dir, '.env'), 'RUSTY_PINCH_MODEL=cwd\n');
    assert.equal(loadEnv({}, dir).env.RUSTY_PINCH_MODEL, 'cwd');
    writeFileSync(join(dir, '.env'), '???\n');
    assert.throws(() => loadEnv({}, dir), /failed loading \.env from current directory/);
  } finally {
    cleanup();
  }
});

test('settings: original defaults (provider codex, model gpt-5-codex, dirs, telemetry file)', () => {
  const s = settingsFromEnv({}, '/srv/rp');
  assert.equal(s.provider, 'codex');
  assert.equal(s.model, 'gpt-5-codex');
  assert.equal(s.dataDir, '/srv/rp/data');
  assert.equal(s.workspace, '/srv/rp/workspace');
  assert.equal(s.telemetryFile, '/srv/rp/data/telemetry/latest.json');
  assert.equal(s.requestTimeoutSecs, 60);
  assert.equal(s.requestRetries, 2);
  assert.equal(s.retryBackoffMs, 600);
  assert.equal(s.retryMaxBackoffMs, 4000);
  assert.equal(s.codex.enabled, true);
  assert.deepEqual(s.codex.cliArgs, ['exec', '--json', '--skip-git-repo-check', '-s', 'read-only']);
  assert.equal(s.codex.cliArgsCustom, false);
  assert.equal(s.codex.accountsConfigured, false);
  assert.equal(s.codex.autoLogin, true);
  assert.equal(s.codex.autoLoginMode, 'chatgpt');
  assert.equal(s.codex.autoLoginApiKeyEnv, 'RUSTY_PINCH_OPENAI_API_KEY');
  assert.equal(s.codex.chatgptDeviceAuth, true);
  assert.equal(s.codex.loginTimeoutSecs, 300);
  assert.equal(s.codex.model, 'gpt-5-codex');
  assert.deepEqual(s.pulse.autoAllowActions, []);
  assert.deepEqual(s.issues, []);
});

test('settings: invalid bool/number keeps the default and is reported as an issue', () => {
  const s = settingsFromEnv({ RUSTY_PINCH_PROVIDER: 'local', RUSTY_PINCH_REQUEST_RETRIES: 'lots', RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED: 'maybe', RUSTY_PINCH_REQUEST_TIMEOUT_SECS: ' 30 ' }, '/x');
  assert.equal(s.requestRetries, 2);
  assert.equal(s.channels.telegram.enabled, false);
  assert.equal(s.requestTimeoutSecs, 30); // trimmed numbers are fine
  const vars = s.issues.map((i) => i.variable).sort();
  assert.deepEqual(vars, ['RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED', 'RUSTY_PINCH_REQUEST_RETRIES']);
  assert.equal(s.issues.find((i) => i.variable === 'RUSTY_PINCH_REQUEST_RETRIES')?.default_used, '2');
});

test('settings: key lookup order names the variable, base trailing slashes removed', () => {
  const s = settingsFromEnv({ RUSTY_PINCH_PROVIDER: 'OpenAI', OPENAI_API_KEY: 'sk-b', RUSTY_PINCH_OPENAI_API_KEY: 'sk-a', RUSTY_PINCH_API_BASE: 'http://127.0.0.1:1/v1///' }, '/x');
  assert.equal(s.provider, 'openai');
  assert.equal(s.model, 'gpt-4o-mini');
  assert.equal(s.apiKey, 'sk-a');
  assert.equal(s.apiKeyFrom, 'RUSTY_PINCH_OPENAI_API_KEY');
  assert.equal(s.apiBase, 'http://127.0.0.1:1/v1');
  const r = settingsFromEnv({ RUSTY_PINCH_PROVIDER: 'openrouter', RUSTY_PINCH_API_KEY: 'sk-x', OPENROUTER_API_KEY: 'sk-y' }, '/x');
  assert.equal(r.apiKeyFrom, 'RUSTY_PINCH_API_KEY');
  assert.equal(r.apiBase, 'https://openrouter.ai/api/v1');
  const c = settingsFromEnv({ RUSTY_PINCH_PROVIDER: 'compatible' }, '/x');
  assert.equal(c.apiBase, undefined);
});

test('settings: channel contract as the original test (settings_load_channel_env_contract)', () => {
  const s = settingsFromEnv(
    {
      RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED: 'true',
      RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN: 'test-token',
      RUSTY_PINCH_CHANNELS_TELEGRAM_ALLOW_FROM: '12345, 67890,',
      RUSTY_PINCH_CHANNELS_TELEGRAM_POLL_TIMEOUT_SECS: '31',
      RUSTY_PINCH_CHANNELS_TELEGRAM_POLL_INTERVAL_MS: '800',
      RUSTY_PINCH_CHANNELS_WHATSAPP_ENABLED: 'yes',
      RUSTY_PINCH_CHANNELS_WHATSAPP_BRIDGE_URL: 'ws://localhost:3001',
      RUSTY_PINCH_CHANNELS_WHATSAPP_ALLOW_FROM: 'alice,bob',
      RUSTY_PINCH_CHANNELS_WHATSAPP_RECONNECT_MS: '4000',
    },
    '/x',
  );
  assert.deepEqual(s.channels.telegram.allowFrom, ['12345', '67890']);
  assert.equal(s.channels.telegram.token, 'test-token');
  assert.equal(s.channels.telegram.pollTimeoutSecs, 31);
  assert.equal(s.channels.telegram.pollIntervalMs, 800);
  assert.equal(s.channels.telegram.dmPolicy, 'allowlist');
  assert.equal(s.channels.whatsapp.enabled, true);
  assert.equal(s.channels.whatsapp.bridgeUrl, 'ws://localhost:3001');
  assert.deepEqual(s.channels.whatsapp.allowFrom, ['alice', 'bob']);
  assert.equal(s.channels.whatsapp.reconnectMs, 4000);
  assert.equal(settingsFromEnv({}, '/x').channels.telegram.dmPolicy, 'pairing');
});

test('codex accounts: the original format, defaults and garbage', () => {
  const acc = parseCodexAccounts(' primary|OPENAI_API_KEY|200|gpt-5-codex ; ;backup||x|  ; |NOID|3|m', { maxRequests: 50 });
  assert.deepEqual(acc, [
    { id: 'primary', apiKeyEnv: 'OPENAI_API_KEY', maxRequests: 200, model: 'gpt-5-codex' },
    { id: 'backup', apiKeyEnv: undefined, maxRequests: 50, model: undefined },
  ]);
  assert.deepEqual(parseCodexAccounts(undefined, { maxRequests: 7, apiKeyEnv: 'K' }), [{ id: 'default', apiKeyEnv: 'K', maxRequests: 7, model: undefined }]);
  assert.equal(parseCodexAccounts('a||0|', { maxRequests: 5 })[0]!.maxRequests, 1);
});

test('loadSettings reads the strict env file end to end', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'e.env');
    writeFileSync(file, 'RUSTY_PINCH_PROVIDER=local\nRUSTY_PINCH_DATA_DIR=./d\n');
    const s = loadSettings({ RUSTY_PINCH_ENV_FILE: file }, dir);
    assert.equal(s.provider, 'local');
    assert.equal(s.dataDir, join(dir, 'd'));
    assert.equal(s.envFile, file);
  } finally {
    cleanup();
  }
});

test('codex login bootstrap variables: values, aliases, and garbage → default with an issue', () => {
  const s = settingsFromEnv({ RUSTY_PINCH_CODEX_AUTO_LOGIN_MODE: 'API_KEY', RUSTY_PINCH_CODEX_AUTO_LOGIN: 'no', RUSTY_PINCH_CODEX_LOGIN_TIMEOUT_SECS: '30', RUSTY_PINCH_CODEX_CHATGPT_AUTH_FILE: ' /x/auth.json ', CODEX_HOME: 'rel-home', RUSTY_PINCH_CODEX_ACCOUNTS: 'a|K|5' }, '/srv');
  assert.equal(s.codex.autoLoginMode, 'api-key');
  assert.equal(s.codex.autoLogin, false);
  assert.equal(s.codex.loginTimeoutSecs, 30);
  assert.equal(s.codex.chatgptAuthFile, '/x/auth.json');
  assert.equal(s.codex.operatorHome, '/srv/rel-home');
  assert.equal(s.codex.accountsConfigured, true);
  for (const [name, value] of [['RUSTY_PINCH_CODEX_AUTO_LOGIN_MODE', 'sometimes'], ['RUSTY_PINCH_CODEX_LOGIN_TIMEOUT_SECS', '0'], ['RUSTY_PINCH_CODEX_LOGIN_TIMEOUT_SECS', 'soon'], ['RUSTY_PINCH_CODEX_AUTO_LOGIN', 'maybe'], ['RUSTY_PINCH_CODEX_CHATGPT_DEVICE_AUTH', '2']] as const) {
    const g = settingsFromEnv({ [name]: value }, '/srv');
    assert.equal(g.issues.length, 1, `${name}=${value}`);
    assert.equal(g.issues[0]!.variable, name);
    assert.equal(g.codex.autoLoginMode, 'chatgpt');
    assert.equal(g.codex.loginTimeoutSecs, 300);
  }
  // Only unsafe ids in RUSTY_PINCH_CODEX_ACCOUNTS: the implicit default account on the operator's home.
  const bad = settingsFromEnv({ RUSTY_PINCH_CODEX_ACCOUNTS: '../x|K|5', HOME: '/home/op' }, '/srv');
  assert.equal(bad.codex.accountsConfigured, false);
  assert.equal(bad.codex.operatorHome, '/home/op/.codex');
});
