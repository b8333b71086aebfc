// Issue 13 item 3: a password in an API base URL (`http://user:PASS@host/v1`) never shows in
// doctor (text and --json), turn errors, stderr events or telemetry — raw or percent-decoded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, runCli, tempDir } from './helpers.js';

function filesUnder(dir: string, out: string[] = []): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) filesUnder(p, out);
    else out.push(p);
  }
  return out;
}

for (const [label, base, secrets] of [
  ['plain', 'http://user:S3cretPassw0rd@127.0.0.1:9/v1', ['S3cretPassw0rd']],
  ['percent-encoded', 'http://user:p%40ssW0rdXyz@127.0.0.1:9/v1', ['p%40ssW0rdXyz', 'p@ssW0rdXyz']],
] as const) {
  test(`URL credentials (${label}) are never printed by doctor, run or their events`, async () => {
    const { dir, cleanup } = tempDir();
    try {
      const env = cleanEnv(dir, { RUSTY_PINCH_PROVIDER: 'compatible', RUSTY_PINCH_API_BASE: base, RUSTY_PINCH_API_KEY: 'k-123456789', RUSTY_PINCH_REQUEST_RETRIES: '0' });
      const outputs: string[] = [];
      const doctor = await runCli(['doctor'], { env });
      outputs.push(doctor.stdout, doctor.stderr);
      assert.match(doctor.stdout, /api_base: http:\/\/user:\*\*\*@127\.0\.0\.1:9\/v1/);
      assert.match(doctor.stdout, /carries credentials/, 'doctor says the URL credentials cannot work');
      assert.equal(doctor.code, 1);
      const json = await runCli(['doctor', '--json'], { env });
      outputs.push(json.stdout, json.stderr);
      assert.equal((JSON.parse(json.stdout) as { api_base: string }).api_base, 'http://user:***@127.0.0.1:9/v1');
      const run = await runCli(['run', '--message', 'hi'], { env });
      outputs.push(run.stdout, run.stderr);
      assert.equal(run.code, 1);
      assert.match(run.stderr, /"event":"turn"/);
      const stats = await runCli(['stats'], { env });
      outputs.push(stats.stdout, stats.stderr);
      for (const f of filesUnder(dir)) outputs.push(readFileSync(f, 'utf8'));
      for (const secret of secrets) {
        for (const o of outputs) assert.ok(!o.includes(secret), `${secret} leaked in: ${o.slice(0, 400)}`);
      }
    } finally {
      cleanup();
    }
  });
}
