// Codex pool rules without processes: the 25 % rule at its exact boundary, the
// most-remaining pick, when quota returns, and the account list parser with garbage input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settingsFromEnv } from '../src/config/index.js';
import { eligible, guardReason, nextCapacityAt, pickAccount, view, views, normalizeAccounts } from '../src/brain/rate.js';
import { decodeState, emptyState, freshAccount } from '../src/brain/state.js';
import type { CodexAccountConfig } from '../src/config/index.js';

const acct = (id: string, maxRequests: number): CodexAccountConfig => ({ id, apiKeyEnv: undefined, maxRequests, model: undefined });

function stateWithUses(uses: Record<string, number>, at = 1000) {
  const s = emptyState();
  for (const [id, n] of Object.entries(uses)) s.accounts[id] = { ...freshAccount(), uses: Array.from({ length: n }, () => at) };
  return s;
}

test('threshold 25, max 4: used 0..2 → run, used 3 (remaining 1 = 25 %) → rate_limit_guard', () => {
  const a = [acct('a1', 4)];
  const seen = [0, 1, 2, 3, 4].map((used) => guardReason(views(stateWithUses({ a1: used }), a), 25));
  assert.deepEqual(seen, [null, null, null, 'rate_limit_guard', 'rate_limit_guard']);
  assert.equal(view(a[0]!, stateWithUses({ a1: 3 }).accounts.a1!).remainingPercent, 25);
});

test('threshold 25, max 200: guard from 149 uses (remaining 51 → floor 25 %), not at 148', () => {
  const a = [acct('a1', 200)];
  assert.equal(guardReason(views(stateWithUses({ a1: 148 }), a), 25), null);
  assert.equal(guardReason(views(stateWithUses({ a1: 149 }), a), 25), 'rate_limit_guard');
  // Threshold bounds: at 1 % the last request still runs when 2 % remain.
  assert.equal(guardReason(views(stateWithUses({ a1: 196 }), a), 1), null);
  assert.equal(guardReason(views(stateWithUses({ a1: 198 }), a), 1), 'rate_limit_guard');
});

test('most remaining wins: one tired account does not put the pool in queue mode', () => {
  const a = [acct('a1', 4), acct('a2', 4)];
  const s = stateWithUses({ a1: 3, a2: 1 });
  // The original (minimum over healthy accounts) would have said rate_limit_guard here.
  assert.equal(guardReason(views(s, a), 25), null);
  assert.equal(pickAccount(views(s, a), 25)?.config.id, 'a2');
  // Ties go to the account with more requests left, then to config order.
  const big = [acct('small', 4), acct('big', 400)];
  assert.equal(pickAccount(views(stateWithUses({ small: 0, big: 0 }), big), 25)?.config.id, 'big');
  assert.equal(pickAccount(views(stateWithUses({ a1: 0, a2: 0 }), a), 25)?.config.id, 'a1');
});

test('health comes first: no healthy account → no_healthy_accounts; unhealthy accounts are never picked', () => {
  const a = [acct('a1', 4), acct('a2', 4)];
  const s = stateWithUses({ a1: 0, a2: 3 });
  s.accounts.a1!.healthy = false;
  assert.equal(guardReason(views(s, a), 25), 'rate_limit_guard');
  assert.equal(pickAccount(views(s, a), 25), undefined);
  s.accounts.a2!.healthy = false;
  assert.equal(guardReason(views(s, a), 25), 'no_healthy_accounts');
  assert.equal(guardReason([], 25), 'no_accounts');
});

test('rolling window: uses leave after the window; capacity returns when enough have left', () => {
  const a = [acct('a1', 4)];
  const s = emptyState();
  normalizeAccounts(s, a, 0, 60_000);
  s.accounts.a1!.uses = [1_000, 2_000, 3_000];
  assert.equal(guardReason(views(s, a), 25), 'rate_limit_guard');
  // Used 3 of 4 → one use must leave: the oldest, at 1 000 + window.
  assert.equal(nextCapacityAt(views(s, a), 25, 60_000), 61_000);
  normalizeAccounts(s, a, 61_000, 60_000);
  assert.deepEqual(s.accounts.a1!.uses, [2_000, 3_000]);
  assert.equal(guardReason(views(s, a), 25), null);
  assert.equal(nextCapacityAt(views(s, a), 25, 60_000), undefined);
});

test('a cooling account (rate-limit answer) counts as used up until its cooldown ends', () => {
  const a = [acct('a1', 10)];
  const s = emptyState();
  normalizeAccounts(s, a, 0, 60_000);
  s.accounts.a1!.cooldown_until_ms = 30_000;
  const v = view(a[0]!, s.accounts.a1!);
  assert.equal(v.remaining, 0);
  assert.equal(eligible(v, 25), false);
  assert.equal(nextCapacityAt(views(s, a), 25, 60_000), 30_000);
  normalizeAccounts(s, a, 30_000, 60_000);
  assert.equal(s.accounts.a1!.cooldown_until_ms, null);
  assert.equal(guardReason(views(s, a), 25), null);
});

test('accounts: the original format, defaults and the implicit default account', () => {
  const s = settingsFromEnv({ RUSTY_PINCH_CODEX_ACCOUNTS: 'primary|OPENAI_API_KEY|200|gpt-5-codex; backup | OTHER_KEY | 50 | m2 | extra' }, '/tmp');
  assert.deepEqual(s.codex.accounts, [
    { id: 'primary', apiKeyEnv: 'OPENAI_API_KEY', maxRequests: 200, model: 'gpt-5-codex' },
    { id: 'backup', apiKeyEnv: 'OTHER_KEY', maxRequests: 50, model: 'm2' },
  ]);
  assert.equal(s.issues.length, 0);
  const d = settingsFromEnv({ RUSTY_PINCH_CODEX_ACCOUNT_MAX_REQUESTS: '7', RUSTY_PINCH_CODEX_ACCOUNT_API_KEY_ENV: 'K', RUSTY_PINCH_CODEX_ACCOUNT_MODEL: 'm' }, '/tmp');
  assert.deepEqual(d.codex.accounts, [{ id: 'default', apiKeyEnv: 'K', maxRequests: 7, model: 'm' }]);
  assert.equal(settingsFromEnv({}, '/ws').codex.homeRoot, '/ws/workspace/codex-homes');
});

test('accounts garbage: blank ids skipped, bad numbers → default, duplicates and unsafe ids dropped with an issue', () => {
  const s = settingsFromEnv({ RUSTY_PINCH_CODEX_ACCOUNTS: ';;|KEY|5; a1 |K|abc|m;a1|X|3;../evil|K|2;b b|;ok||0;x|K|99999999999', RUSTY_PINCH_CODEX_ACCOUNT_MAX_REQUESTS: '9' }, '/tmp');
  assert.deepEqual(
    s.codex.accounts.map((a) => [a.id, a.apiKeyEnv, a.maxRequests, a.model]),
    [
      ['a1', 'K', 9, 'm'],
      ['ok', undefined, 1, undefined],
      ['x', 'K', 9, undefined],
    ],
  );
  const msgs = s.issues.filter((i) => i.variable === 'RUSTY_PINCH_CODEX_ACCOUNTS').map((i) => i.message);
  assert.equal(msgs.length, 3);
  assert.match(msgs.join('\n'), /duplicate account id 'a1'/);
  assert.match(msgs.join('\n'), /'\.\.\/evil' is not allowed/);
  assert.match(msgs.join('\n'), /'b b' is not allowed/);
  // Nothing usable left → the implicit default account, still with the issue reported.
  const none = settingsFromEnv({ RUSTY_PINCH_CODEX_ACCOUNTS: '../x|K|1' }, '/tmp');
  assert.deepEqual(none.codex.accounts.map((a) => a.id), ['default']);
  assert.equal(none.issues.length, 1);
});

test('state decoder: refuses foreign shapes, salvages what validates, keeps ids monotonic', () => {
  for (const bad of [null, [], 'x', 42, {}, { queue: {}, accounts: {} }, { queue: [], accounts: [] }]) {
    assert.throws(() => decodeState(bad), Error, JSON.stringify(bad));
  }
  const issues: string[] = [];
  const s = decodeState({ queue: [{ id: 7, prompt: 'p' }, { id: 'x' }, { id: 9, prompt: 'q' }], accounts: { a: { uses: [1, 'x', null, 2] }, b: { uses: [3] }, c: 5 }, next_task_id: 3 }, issues);
  assert.equal(s.next_task_id, 10);
  assert.deepEqual(s.queue.map((t) => t.prompt), ['p', 'q'], 'valid queued prompts survive a bad neighbour');
  assert.deepEqual(Object.keys(s.accounts), ['b'], 'a bad account is reset, not coerced');
  assert.deepEqual(s.accounts.b!.uses, [3]);
  assert.equal(s.accounts.b!.healthy, true);
  assert.equal(s.queue[0]!.purpose, 'general');
  assert.equal(s.queue[0]!.attempts, 0);
  assert.equal(issues.length, 3, issues.join('\n'));
  assert.match(issues.join('\n'), /queue\[1\]\.id: expected a finite number/);
  assert.match(issues.join('\n'), /accounts\.a\.uses\[1\]/);
  const clean: string[] = [];
  decodeState({ queue: [{ id: 7, prompt: 'p' }], accounts: { a: {} } }, clean);
  assert.deepEqual(clean, []);
});
