// Errors: every error class is an AppError with a stable code, and the CLI's exit code comes
// from the class and code, never from message text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, UsageError, ValidationError, exitCodeOf } from '../src/kernel/index.js';
import { PulseError, parseObservations } from '../src/pulse/index.js';
import { PairingError } from '../src/channels/index.js';
import { SchemaError } from '../src/store/index.js';

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

test('no error class extends Error directly: AppError is the only root', () => {
  const offenders = sources('src').flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .map((line, i) => ({ f, i, line }))
      .filter(({ line }) => /class\s+\w+\s+extends\s+(Error|TypeError|RangeError)\b/.test(line) && !line.includes('class AppError')),
  );
  assert.deepEqual(offenders.map(({ f, i, line }) => `${f}:${i + 1}: ${line.trim()}`), []);
});

test('exit codes by code: usage problems 2, everything else 1, whatever the message says', () => {
  assert.equal(exitCodeOf(new UsageError('x')), 2);
  assert.equal(exitCodeOf(new ValidationError('usage: looks like usage')), 1);
  assert.equal(exitCodeOf(new PulseError('anything at all', 'bad_input')), 2);
  assert.equal(exitCodeOf(new PulseError('failed parsing observations json: but not bad input')), 1);
  assert.equal(exitCodeOf(new Error('usage')), 1);
  assert.equal(exitCodeOf('usage'), 1);
  assert.throws(() => parseObservations('[tru'), (err: unknown) => err instanceof PulseError && err.code === 'pulse_bad_input' && exitCodeOf(err) === 2);
});

test('the former plain errors carry stable codes and hints', () => {
  const expired = new PulseError('token expired', 'expired');
  assert.ok(expired instanceof AppError);
  assert.equal(expired.code, 'pulse_expired');
  assert.match(expired.hint ?? '', /new token/);
  assert.equal(new PulseError('x', 'not_found').code, 'pulse_not_found');
  const pairing = new PairingError('no pending pairing code');
  assert.equal(pairing.code, 'pairing');
  assert.equal(pairing.name, 'PairingError');
  assert.equal(new SchemaError('queue[0].id', 'expected a number').code, 'schema');
  assert.equal(new SchemaError('queue[0].id', 'expected a number').message, 'queue[0].id: expected a number');
});
