// Who may talk: allowlist (user id, chat id, @username), DM policies, pairing codes (issue,
// remind, rate limits, expiry, approve, revoke) and a corrupt pairing file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AccessControl, PairingError, PairingStore, allowlisted, newPairingCode, type ChannelMessage } from '../src/channels/index.js';
import { setEventSink } from '../src/observe/index.js';
import { tempDir } from './helpers.js';

const msg = (senderId: string, chatId = senderId, aliases?: string[]): ChannelMessage => ({ channel: 'telegram', chatId, senderId, text: 'hi', ...(aliases ? { senderAliases: aliases } : {}) });

test('allowlist matches sender id, chat id and @username (case-insensitive)', () => {
  assert.ok(allowlisted(['111'], ['111', '999']));
  assert.ok(allowlisted([' 999 '], ['111', '999']));
  assert.ok(allowlisted(['@Alice'], ['5', '5', '@alice']));
  assert.ok(!allowlisted(['11'], ['111']));
  assert.ok(!allowlisted(['alice'], ['@alice']));
  assert.ok(!allowlisted([], ['1']));
});

test('policies: open admits anyone, allowlist refuses strangers once per cooldown', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const store = new PairingStore(dir);
    const open = new AccessControl({ channel: 'telegram', policy: 'open', allowFrom: [], store });
    assert.deepEqual(await open.check(msg('1')), { decision: 'allow', via: 'open' });
    let now = 0;
    const strict = new AccessControl({ channel: 'telegram', policy: 'allowlist', allowFrom: ['42', '-100'], store, noticeCooldownMs: 1000, now: () => now });
    assert.equal((await strict.check(msg('42'))).decision, 'allow');
    assert.equal((await strict.check(msg('7', '-100'))).decision, 'allow', 'group chat id admits its members');
    const first = await strict.check(msg('7'));
    assert.equal(first.decision, 'refuse');
    assert.ok(first.decision === 'refuse' && first.reply && /not on its allowlist/.test(first.reply));
    const again = await strict.check(msg('7'));
    assert.ok(again.decision === 'refuse' && again.reply === undefined, 'no second notice within the cooldown');
    now = 5000;
    const later = await strict.check(msg('7'));
    assert.ok(later.decision === 'refuse' && later.reply !== undefined);
    assert.ok(!existsSync(store.path), 'allowlist policy issues no pairing codes');
  } finally {
    cleanup();
  }
});

test('pairing: code issued once, reminders rate-limited, approve admits, revoke removes', async () => {
  const { dir, cleanup } = tempDir();
  try {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const store = new PairingStore(dir, { now: () => now, remindMs: 60_000 });
    const access = new AccessControl({ channel: 'telegram', policy: 'pairing', allowFrom: [], store, now: () => now });
    const first = await access.check(msg('555', '555', ['@bob']));
    assert.ok(first.decision === 'pairing' && first.status === 'issued');
    const code = /code is ([A-Z0-9]{4}-[A-Z0-9]{4})/.exec(first.reply ?? '')?.[1];
    assert.ok(code, first.reply);
    assert.match(first.reply ?? '', /rusty-pinch pairing approve telegram/);
    const second = await access.check(msg('555'));
    assert.ok(second.decision === 'pairing' && second.status === 'pending' && second.reply === undefined, 'no reminder right away');
    now += 61_000;
    const third = await access.check(msg('555'));
    assert.ok(third.decision === 'pairing' && third.reply?.includes(code), 'reminder after the interval, same code');
    assert.equal(store.list().pending.length, 1);
    await assert.rejects(store.approve('whatsapp', code), PairingError, 'codes are per channel');
    const approved = await store.approve('telegram', code.toLowerCase().replace('-', ' '));
    assert.equal(approved.sender, '555');
    assert.deepEqual(approved.aliases, ['@bob']);
    assert.deepEqual(await access.check(msg('555')), { decision: 'allow', via: 'paired' });
    await assert.rejects(store.approve('telegram', code), /no pending pairing code/, 'one-time');
    const r = await store.revoke('telegram', '@bob');
    assert.equal(r.revoked, 1);
    assert.equal((await access.check(msg('555'))).decision, 'pairing');
    await assert.rejects(store.revoke('telegram', 'nobody'), PairingError);
  } finally {
    cleanup();
  }
});

test('pairing: codes expire, and a full pending list turns strangers away', async () => {
  const { dir, cleanup } = tempDir();
  try {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const store = new PairingStore(dir, { now: () => now, ttlMs: 1000, maxPending: 2 });
    const access = new AccessControl({ channel: 'telegram', policy: 'pairing', allowFrom: [], store, now: () => now });
    const a = await access.check(msg('1'));
    await access.check(msg('2'));
    const c = await access.check(msg('3'));
    assert.ok(c.decision === 'refuse' && c.reason === 'pairing_full' && c.reply);
    const codeA = /code is (\S+) /.exec(a.decision === 'pairing' ? (a.reply ?? '') : '')?.[1] as string;
    now += 2000;
    await assert.rejects(store.approve('telegram', codeA), /expired/);
    assert.equal(store.list().pending.length, 0, 'expired codes are not listed (and were pruned)');
    assert.equal((await access.check(msg('3'))).decision, 'pairing', 'room again after expiry');
  } finally {
    cleanup();
  }
});

test('codes are unguessable-looking and distinct', () => {
  const codes = new Set(Array.from({ length: 500 }, () => newPairingCode()));
  assert.equal(codes.size, 500);
  for (const c of codes) assert.match(c, /^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/);
});

test('garbage: a corrupt pairing file is moved aside with a warning, not fatal', async () => {
  const { dir, cleanup } = tempDir();
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  try {
    mkdirSync(join(dir, 'channels'), { recursive: true });
    const store = new PairingStore(dir);
    const junks = ['{not json', '{"version":1,"pending":"x","approved":[]}', '[]', '{"version":1,"pending":[{"code":5}],"approved":[]}'];
    for (const [i, junk] of junks.entries()) {
      writeFileSync(store.path, junk);
      assert.equal(store.isApproved('telegram', ['1']), false);
      assert.deepEqual(JSON.parse(readFileSync(store.path, 'utf8')), { version: 1, pending: [], approved: [] }, `rebuilt: ${junk}`);
      const backups = readdirSync(join(dir, 'channels')).filter((f) => f.includes('.corrupt-'));
      assert.ok(backups.length >= 1 && existsSync(join(dir, 'channels', backups.sort().at(-1)!)), `moved aside: ${junk} (${i})`);
    }
    // One bad entry costs only itself: the approved sender beside it stays approved.
    writeFileSync(store.path, JSON.stringify({ version: 1, pending: [], approved: [{ channel: 'telegram', sender: '7', aliases: [] }, { channel: 'telegram', sender: 8 }] }));
    assert.equal(store.isApproved('telegram', ['7']), true);
    assert.equal(JSON.parse(readFileSync(store.path, 'utf8')).approved.length, 1);
    assert.ok(lines.some((l) => l.includes('pairing file is corrupt')));
    writeFileSync(store.path, '{oops');
    const access = new AccessControl({ channel: 'telegram', policy: 'pairing', allowFrom: [], store });
    assert.equal((await access.check(msg('9'))).decision, 'pairing', 'a fresh file is written');
  } finally {
    setEventSink(prev);
    cleanup();
  }
});

// Issue 13 item 1: Telegram usernames are released and re-claimed; only immutable ids admit.
test('pairing admits by immutable id only: a new account that takes an approved username is a stranger', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const store = new PairingStore(dir);
    const access = new AccessControl({ channel: 'telegram', policy: 'pairing', allowFrom: [], store });
    const first = await access.check(msg('222', '222', ['@alice']));
    const code = /code is (\S+) /.exec(first.decision === 'pairing' ? (first.reply ?? '') : '')?.[1] as string;
    await store.approve('telegram', code);
    assert.deepEqual(await access.check(msg('222', '222', ['@alice'])), { decision: 'allow', via: 'paired' });
    // Account 333 later claims @alice (different id, different private chat).
    const imposter = await access.check(msg('333', '333', ['@alice']));
    assert.equal(imposter.decision, 'pairing', 'the username does not admit');
    assert.equal(store.isApproved('telegram', ['@alice']), false);
    assert.equal(store.isApproved('telegram', ['333', '333', '@alice']), false);
    // WhatsApp aliases are JIDs (immutable ids): an approved LID still admits via the phone JID.
    const wa = new AccessControl({ channel: 'whatsapp', policy: 'pairing', allowFrom: [], store });
    const w = await wa.check({ channel: 'whatsapp', chatId: '111@lid', senderId: '111@lid', senderAliases: ['4915@s.whatsapp.net'], text: 'hi' });
    await store.approve('whatsapp', /code is (\S+) /.exec(w.decision === 'pairing' ? (w.reply ?? '') : '')?.[1] as string);
    assert.equal((await wa.check({ channel: 'whatsapp', chatId: '4915@s.whatsapp.net', senderId: '4915@s.whatsapp.net', text: 'hi' })).decision, 'allow');
  } finally {
    cleanup();
  }
});

// Issue 13 item 7: no codes in groups, a per-sender limit, the operator told when the table is full.
test('pairing codes only in direct chats; a group message gets a pointer, no code', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const store = new PairingStore(dir);
    const access = new AccessControl({ channel: 'telegram', policy: 'pairing', allowFrom: [], store });
    const g = await access.check({ ...msg('444', '-100987'), isGroup: true });
    assert.ok(g.decision === 'refuse' && g.reason === 'group_chat', JSON.stringify(g));
    assert.ok(g.reply && /direct/.test(g.reply) && !/code/i.test(g.reply), g.reply);
    assert.equal(store.list().pending.length, 0, 'no code was created');
    const d = await access.check(msg('444'));
    assert.ok(d.decision === 'pairing' && d.status === 'issued');
  } finally {
    cleanup();
  }
});

test('pairing: a sender gets at most maxPerSender codes per window', async () => {
  const { dir, cleanup } = tempDir();
  try {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const store = new PairingStore(dir, { now: () => now, ttlMs: 1000, maxPerSender: 2, senderWindowMs: 60_000 });
    const access = new AccessControl({ channel: 'telegram', policy: 'pairing', allowFrom: [], store, now: () => now, noticeCooldownMs: 0 });
    assert.equal((await access.check(msg('5'))).decision, 'pairing');
    now += 2000; // expired: a second code
    const second = await access.check(msg('5'));
    assert.ok(second.decision === 'pairing' && second.status === 'issued');
    now += 2000;
    const third = await access.check(msg('5'));
    assert.ok(third.decision === 'refuse' && third.reason === 'pairing_limited' && third.reply, JSON.stringify(third));
    assert.equal((await access.check(msg('6'))).decision, 'pairing', 'other senders are unaffected');
    now += 61_000;
    assert.equal((await access.check(msg('5'))).decision, 'pairing', 'the window passes');
  } finally {
    cleanup();
  }
});

test('a full pairing table emits pairing_full and tells the operator once per period', async () => {
  const { dir, cleanup } = tempDir();
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  try {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const told: string[] = [];
    const store = new PairingStore(dir, { now: () => now, maxPending: 2 });
    const access = new AccessControl({ channel: 'telegram', policy: 'pairing', allowFrom: [], store, now: () => now, onPairingFull: (t) => told.push(t), fullNoticeMs: 60_000 });
    for (const s of ['1', '2', '3', '4']) await access.check(msg(s));
    assert.equal(lines.filter((l) => l.includes('"event":"pairing_full"')).length, 2);
    assert.equal(told.length, 1);
    assert.match(told[0] as string, /pairing table is full.*rusty-pinch pairing list/);
    now += 61_000;
    await access.check(msg('5'));
    assert.equal(told.length, 2);
  } finally {
    setEventSink(prev);
    cleanup();
  }
});

test('doctor warns about @username allowlist entries (usernames can be re-claimed)', async () => {
  const { settingsFromEnv, runDoctor } = await import('../src/config/index.js');
  const { dir, cleanup } = tempDir();
  const s = settingsFromEnv({ RUSTY_PINCH_DATA_DIR: join(dir, 'data'), RUSTY_PINCH_WORKSPACE: join(dir, 'ws'), RUSTY_PINCH_PROVIDER: 'local', RUSTY_PINCH_OPS_ADDR: 'off', RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED: 'true', RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN: '123456:abcdefghijklmnopqrstuvwxyz0123456789', RUSTY_PINCH_CHANNELS_TELEGRAM_ALLOW_FROM: '42,@alice' }, '/tmp');
  const r = await runDoctor(s).finally(cleanup);
  assert.ok(r.checks.some((c) => c.level === 'warning' && /usernames \(@alice\)/.test(c.message)), JSON.stringify(r.checks));
});
