import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactSecrets, registerSecrets, registerSecretsFromEnv, clearRegisteredSecrets, errorChain, AppError } from '../src/kernel/index.js';

test('registered secret values are redacted wherever they appear', () => {
  clearRegisteredSecrets();
  registerSecrets(['plainvalue-123456', undefined, 'abc']);
  assert.equal(redactSecrets('env: KEY=plainvalue-123456 and plainvalue-123456'), 'env: KEY=*** and ***');
  assert.equal(redactSecrets('abc stays'), 'abc stays', 'short values are not registered');
  assert.equal(new AppError('x', 'boom plainvalue-123456').message, 'boom ***');
  assert.equal(errorChain(new Error('a', { cause: new Error('plainvalue-123456') })), 'a: ***');
  clearRegisteredSecrets();
});

test('secret-named variables are registered from an environment; others are not', () => {
  clearRegisteredSecrets();
  registerSecretsFromEnv({ MY_API_KEY: 'zzzz-key-value', RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN: 'tok-tok-tok', RUSTY_PINCH_MODEL: 'gpt-model-name' });
  assert.equal(redactSecrets('zzzz-key-value tok-tok-tok gpt-model-name'), '*** *** gpt-model-name');
  clearRegisteredSecrets();
});

test('a longer secret containing a shorter one is replaced whole', () => {
  clearRegisteredSecrets();
  registerSecrets(['secret1', 'secret1-extended']);
  assert.equal(redactSecrets('[secret1-extended]'), '[***]');
  clearRegisteredSecrets();
});

test('patterns: URL userinfo passwords, bearer tokens, bot tokens, sk- keys', () => {
  assert.equal(redactSecrets('http://user:PASS@host/v1'), 'http://user:***@host/v1');
  assert.equal(redactSecrets('Authorization: Bearer abc.def'), 'Authorization: Bearer ***');
  assert.equal(redactSecrets('https://api.telegram.org/bot123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij/getMe'), 'https://api.telegram.org/bot***/getMe');
  assert.equal(redactSecrets('key sk-abcdef0123456789'), 'key sk-abcdef***');
  assert.equal(redactSecrets('no secrets here: http://host:8080/x'), 'no secrets here: http://host:8080/x');
});
