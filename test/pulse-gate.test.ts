// Issue 13 item 4: the OODA gate classifies an action by what it performs, never by its words.
// A non-GET request, a skill or a tool waits for approval unless auto-allowed by its structural
// name (`http:post`, `skill:<name>`, `tool:<name>`); a word in a URL never allows anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { tempDir } from './helpers.js';
import { ManualClock, classifyRisk, openPulse, parseAction, requiresApproval, runOodaCycle } from '../src/pulse/index.js';
import type { PulseSettings } from '../src/config/index.js';

const settings = (autoAllowActions: string[]): PulseSettings => ({ autoAllowActions, approvalTtlSecs: 60, notify: [], tickMs: 30_000, allowPrivateHealthchecks: true, assessTimeoutSecs: 1 });

test('risk comes from the structure: reads low, writes high, DELETE critical, skills and tools high', () => {
  const risk = (a: string): string => classifyRisk(a, []);
  for (const m of ['GET', 'get', 'HEAD', 'OPTIONS']) assert.equal(risk(`http ${m} https://x.test/delete-all`), 'low', m);
  for (const m of ['POST', 'PUT', 'PATCH', 'post', 'PROPFIND']) assert.equal(risk(`http ${m} https://x.test/status`), 'high', m);
  assert.equal(risk('http DELETE https://x.test/a'), 'critical');
  assert.equal(risk('skill weather Paris'), 'high');
  assert.equal(risk('tool time_now'), 'high');
  assert.equal(risk('tool shell delete everything'), 'critical', 'words raise the risk of running code');
  assert.equal(risk('notify disk almost full'), 'medium', 'to the operator, not held');
  assert.equal(risk('deploy production'), 'high', 'free text keeps the keyword lists');
  assert.equal(classifyRisk('notify operator', [], { kind: 'http', method: 'POST', url: 'https://x.test' }), 'high', 'what is performed decides, not the text');
});

test('auto-allow: only structural names allow a performed action; `*` never a critical one', () => {
  const need = (a: string, allow: string[]): boolean => requiresApproval(a, classifyRisk(a, []), allow, parseAction(a));
  assert.equal(need('http POST https://x.test/hook', []), true);
  assert.equal(need('http POST https://x.test/deploy', ['deploy']), true, 'a word in the URL allows nothing');
  assert.equal(need('http POST https://x.test/restart email', ['deploy', 'restart', 'email', 'purchase', 'self-update']), true, "the original's default list allows no request");
  assert.equal(need('http POST https://x.test/hook', ['http:post']), false);
  assert.equal(need('http PUT https://x.test/hook', ['http:post']), true);
  assert.equal(need('http PATCH https://x.test/hook', ['*']), false, '* allows a high action');
  assert.equal(need('http DELETE https://x.test/a', ['*']), true, '* never allows a critical one');
  assert.equal(need('http DELETE https://x.test/a', ['http:delete']), false);
  assert.equal(need('skill weather Paris', ['paris']), true);
  assert.equal(need('skill weather Paris', ['skill:weather']), false);
  assert.equal(need('tool skill_run weather deploy', ['deploy']), true, 'words in tool args allow nothing');
  assert.equal(need('tool skill_run weather', ['tool:skill_run']), false);
  assert.equal(need('http GET https://x.test/purchase', []), false, 'a read is never held');
});

test('OODA cycle: http POST/PUT/PATCH wait for approval and send nothing; GET runs; approving sends', async () => {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.method ?? '');
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const t = tempDir('rp-gate-');
  try {
    const svc = openPulse({ workspace: join(t.dir, 'ws'), settings: settings([]), codexEnabled: false, clock: new ManualClock() });
    const tokens: string[] = [];
    for (const m of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const r = await runOodaCycle(svc, { action: `http ${m} ${base}/x {"a":1}`, observations: [] });
      assert.equal(r.approval_status, 'pending', m);
      assert.equal(r.act_result, null);
      tokens.push(r.approval_token as string);
    }
    assert.deepEqual(hits, [], 'nothing was sent before approval');
    const get = await runOodaCycle(svc, { action: `http GET ${base}/y`, observations: [] });
    assert.equal(get.approval_status, 'approved');
    assert.equal(get.act_result?.status, 'ok');
    assert.deepEqual(hits, ['GET']);
    await svc.approve(tokens[0] as string);
    assert.deepEqual(hits, ['GET', 'POST']);
    const allowed = openPulse({ workspace: join(t.dir, 'ws2'), settings: settings(['http:put']), codexEnabled: false, clock: new ManualClock() });
    assert.equal((await runOodaCycle(allowed, { action: `http PUT ${base}/z`, observations: [] })).approval_status, 'approved');
    assert.deepEqual(hits, ['GET', 'POST', 'PUT']);
  } finally {
    server.closeAllConnections();
    server.close();
    t.cleanup();
  }
});
