// Pulse pure rules: risk classification, whole-word auto-allow, observation parsing (garbage
// included), action parsing, URL/host policy, tokens, and decoding the original's state file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyRisk, decide, decodeState, isPrivateHost, matchesWord, newApprovalToken, orientRule, parseAction, parseObservations, requiresApproval, validateHealthcheckUrl } from '../src/pulse/index.js';

const warn = [{ source: 's', key: 'k', value: 'v', severity: 'warn' }];
const err = [{ source: 's', key: 'k', value: 'v', severity: 'ERROR' }];

test('risk classification uses the original keyword lists and order', () => {
  assert.equal(classifyRisk('Delete old backups', []), 'critical');
  assert.equal(classifyRisk('self-update now', []), 'critical');
  assert.equal(classifyRisk('make a payment', []), 'critical');
  assert.equal(classifyRisk('deploy production', []), 'high');
  assert.equal(classifyRisk('send email', []), 'high');
  assert.equal(classifyRisk('shutdown host', []), 'high');
  assert.equal(classifyRisk('observe', err), 'medium');
  assert.equal(classifyRisk('observe', warn), 'low');
  assert.equal(decide(warn), 'escalate');
  assert.equal(decide([{ ...warn[0]!, severity: 'INFO' }]), 'continue');
  assert.equal(orientRule([]), 'no observations provided');
  assert.equal(orientRule([...warn, { ...warn[0]!, severity: 'info' }]), '2 observations, 1 require attention');
});

test('auto-allow matches whole words, defaults to nothing, and never covers a critical word', () => {
  assert.equal(requiresApproval('deploy production', 'high', []), true, 'empty default list: risky needs approval');
  assert.equal(requiresApproval('deploy production', 'high', ['deploy']), false);
  assert.equal(requiresApproval('start redeployment', 'high', ['deploy']), true, 'deploy does not match redeployment');
  assert.equal(requiresApproval('deploy-prod', 'high', ['deploy']), true);
  assert.equal(requiresApproval('restart web', 'high', ['*']), false);
  assert.equal(requiresApproval('deploy then delete prod', 'critical', ['deploy']), true);
  assert.equal(requiresApproval('delete prod', 'critical', ['*']), true, '* never waves a critical action through');
  assert.equal(requiresApproval('delete tmp', 'critical', ['delete']), false, 'an explicitly allowed critical word');
  assert.equal(requiresApproval('deleted tmp', 'critical', ['delete']), true);
  assert.equal(requiresApproval('observe only', 'medium', []), false);
  assert.equal(matchesWord('Restart  NGINX now', 'restart nginx'), false);
  assert.equal(matchesWord('restart nginx now', 'restart nginx'), true);
  assert.equal(matchesWord('x', '(.*)'), false, 'keywords are literal, not regexes');
});

test('observations: defaults, blank, and garbage with clear errors', () => {
  assert.deepEqual(parseObservations(''), []);
  assert.deepEqual(parseObservations('  '), []);
  assert.deepEqual(parseObservations('[{"source":"a","key":"b","value":"c","extra":1}]'), [{ source: 'a', key: 'b', value: 'c', severity: 'info' }]);
  for (const bad of ['{bad', '{"a":1}', '[1]', '[{"source":"a","key":"b"}]', '[{"source":"a","key":"b","value":3}]', '[{"source":"a","key":"b","value":"c","severity":5}]', 'null', '"x"', '[[]]']) {
    assert.throws(() => parseObservations(bad), /failed parsing observations json/, bad);
  }
});

test('action texts name what Act and approvals perform', () => {
  assert.deepEqual(parseAction('http post https://x.test/a {"b":1}'), { kind: 'http', method: 'POST', url: 'https://x.test/a', body: '{"b":1}' });
  assert.deepEqual(parseAction('HTTP GET http://x.test'), { kind: 'http', method: 'GET', url: 'http://x.test' });
  assert.deepEqual(parseAction('notify disk almost full'), { kind: 'notify', text: 'disk almost full' });
  assert.deepEqual(parseAction('skill weather Paris'), { kind: 'skill', name: 'weather', args: 'Paris' });
  assert.deepEqual(parseAction('deploy production'), { kind: 'none' });
  assert.deepEqual(parseAction('http ftp://x'), { kind: 'none' });
  assert.deepEqual(parseAction(''), { kind: 'none' });
});

test('health-check URLs: the original messages; private hosts blocked unless allowed', () => {
  assert.throws(() => validateHealthcheckUrl('  ', false), /healthcheck url is empty/);
  assert.throws(() => validateHealthcheckUrl('ftp://x', false), /must start with http/);
  assert.throws(() => validateHealthcheckUrl('http://a b', false), /invalid characters/);
  assert.throws(() => validateHealthcheckUrl('http://', false), /failed parsing healthcheck host/);
  for (const u of ['http://localhost:8080', 'http://127.0.0.1#@example.com', 'http://2130706433/', 'http://[::ffff:127.0.0.1]/', 'http://169.254.169.254/', 'http://172.20.1.1/', 'http://10.0.0.1/', 'http://printer.local/', 'http://0.0.0.0/']) {
    assert.throws(() => validateHealthcheckUrl(u, false), /blocked by sandbox policy/, u);
  }
  assert.equal(validateHealthcheckUrl(' https://example.com/health ', false), 'https://example.com/health');
  assert.equal(validateHealthcheckUrl('http://127.0.0.1:8080/h', true), 'http://127.0.0.1:8080/h');
  assert.equal(isPrivateHost('172.32.0.1'), false);
  assert.equal(isPrivateHost('example.com'), false);
});

test('approval tokens are 128-bit random', () => {
  const seen = new Set(Array.from({ length: 1000 }, newApprovalToken));
  assert.equal(seen.size, 1000);
  for (const t of seen) assert.match(t, /^pa-[0-9a-f]{32}$/);
});

test('decodes the original state file; drops broken entries; rejects non-objects', () => {
  const original = {
    updated_at: '2026-02-20T03:04:05.123456789+00:00',
    jobs: [
      { id: 'runtime-heartbeat', interval_secs: 60, action: { emit_log: { message: 'pulse heartbeat' } }, enabled: false, runs: 7, next_due_at: '2026-02-20T03:05:05.123456789+00:00', last_run_at: '2026-02-20T03:04:05.123456789+00:00', last_status: 'ok', last_message: 'log emitted' },
      { id: 'api-health', interval_secs: 30, action: { http_health_check: { url: 'https://example.com/health', expected_status: 200, timeout_secs: 10 } }, enabled: true, runs: 0, next_due_at: 'garbage', last_run_at: null, last_status: null, last_message: null },
      { id: 'codex-healthcheck', interval_secs: 120, action: 'codex_health_check', enabled: true, runs: 0, next_due_at: '2026-02-20T03:06:05+00:00', last_run_at: null, last_status: null, last_message: null },
      { id: 'BAD ID', interval_secs: 1, action: 'codex_health_check' },
      { id: 'x', interval_secs: 1, action: { unknown: {} } },
    ],
    pending_approvals: [{ token: 'pa-19c1f2a3b4c-1', action: 'deploy production', risk: 'high', reason: 'human approval required for risky action', created_at: '2026-02-20T03:04:05.123456789+00:00', status: 'pending' }],
    goals: [{ id: 'goal-1', description: 'ship', achieved: false, updated_at: '2026-02-20T03:04:05+00:00', notes: null }],
  };
  const s = decodeState(original, 3600, Date.parse('2026-02-20T03:04:06Z'));
  assert.deepEqual(s.jobs.map((j) => j.id), ['runtime-heartbeat', 'api-health', 'codex-healthcheck']);
  assert.equal(s.jobs[0]?.runs, 7);
  assert.equal(s.jobs[0]?.enabled, false);
  assert.equal(s.jobs[0]?.last_message, 'log emitted');
  assert.deepEqual(s.pending_approvals[0]?.perform, { kind: 'none' });
  assert.equal(s.pending_approvals[0]?.expires_at, '2026-02-20T04:04:05.123+00:00');
  assert.equal(s.goals[0]?.id, 'goal-1');
  assert.throws(() => decodeState([], 60));
  assert.throws(() => decodeState('x', 60));
  assert.deepEqual(decodeState({}, 60).jobs, []);
});
