// `channels telegram|whatsapp` and `pairing` through the built CLI against the fake Bot API: restarts do
// not re-answer, allowlists, the pairing flow end to end, SIGTERM/SIGINT during a slow turn,
// bad flags and settings, and a corrupt offset file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, events, runCli, startCli, tempDir } from './helpers.js';
import { startFakeTelegram, type FakeTelegram } from './fakes/telegram-api.js';
import { FakeWhatsAppBridge } from './fakes/whatsapp-bridge.js';

function tgEnv(dir: string, fake: FakeTelegram, extra: Record<string, string | undefined> = {}): Record<string, string> {
  return cleanEnv(dir, {
    RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED: 'true',
    RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN: fake.token,
    RUSTY_PINCH_CHANNELS_TELEGRAM_API_ROOT: fake.url,
    RUSTY_PINCH_CHANNELS_TELEGRAM_POLL_TIMEOUT_SECS: '1',
    RUSTY_PINCH_CHANNELS_TELEGRAM_POLL_INTERVAL_MS: '0',
    RUSTY_PINCH_SESSION_FSYNC: 'false',
    ...extra,
  });
}


test('restart does not re-answer: two --max-messages 1 runs answer two messages once each', async () => {
  const { dir, cleanup } = tempDir();
  const fake = await startFakeTelegram();
  try {
    const env = tgEnv(dir, fake, { RUSTY_PINCH_CHANNELS_TELEGRAM_DM_POLICY: 'open' });
    fake.message({ chatId: 11, text: 'first' });
    fake.message({ chatId: 11, text: 'second' });
    const r1 = await runCli(['channels', 'telegram', '--max-messages', '1'], { env });
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r1.stdout, '');
    assert.deepEqual(fake.sent.map((s) => [s.chat_id, /Received '(\w+)'/.exec(s.text)?.[1]]), [['11', 'first']]);
    const ev1 = events(r1.stderr);
    assert.deepEqual(ev1.find((e) => e.event === 'channel_start'), { event: 'channel_start', allow_from_count: 0, channel: 'telegram', dm_policy: 'open', max_messages: 1, poll_interval_ms: 0, poll_timeout_secs: 1 });
    assert.deepEqual(ev1.at(-1), { event: 'channel_stop', channel: 'telegram', reason: 'max_messages' });

    const r2 = await runCli(['channels', 'telegram', '--max-messages', '1'], { env });
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(fake.sent.map((s) => /Received '(\w+)'/.exec(s.text)?.[1]), ['first', 'second']);

    fake.message({ chatId: 11, text: 'third' });
    const r3 = await runCli(['channels', 'telegram', '--max-messages', '1'], { env });
    assert.equal(r3.code, 0, r3.stderr);
    assert.deepEqual(fake.sent.map((s) => /Received '(\w+)'/.exec(s.text)?.[1]), ['first', 'second', 'third']);
    // The session saw each message once (history counts earlier turns of the chat).
    assert.match(fake.sent[2]!.text, /history=4 messages/);
  } finally {
    await fake.close();
    cleanup();
  }
});

test('allowlist admits a user id and a group chat id, and refuses others with a short message', async () => {
  const { dir, cleanup } = tempDir();
  const fake = await startFakeTelegram();
  try {
    const run = startCli(['channels', 'telegram', '--max-messages', '2'], tgEnv(dir, fake, { RUSTY_PINCH_CHANNELS_TELEGRAM_ALLOW_FROM: '111, -500' }));
    fake.message({ chatId: 333, text: 'stranger' });
    await fake.waitFor(() => fake.sent.some((s) => s.chat_id === '333'), 15_000, 'refusal');
    fake.message({ chatId: 111, text: 'owner' });
    fake.message({ chatId: -500, fromId: 222, text: 'group' });
    const r = await run.result;
    assert.equal(r.code, 0, r.stderr);
    const byChat = Object.fromEntries(fake.sent.map((s) => [s.chat_id, s.text]));
    assert.match(byChat['333']!, /not on its allowlist/);
    assert.match(byChat['111']!, /Received 'owner'/);
    assert.match(byChat['-500']!, /Received 'group'/);
    const access = events(r.stderr).filter((e) => e.event === 'channel_access');
    assert.deepEqual(access.map((e) => [e.sender, e.decision]).sort(), [['111', 'allow'], ['222', 'allow'], ['333', 'refuse']]);
    assert.equal(events(r.stderr).find((e) => e.event === 'channel_start')?.dm_policy, 'allowlist');
  } finally {
    await fake.close();
    cleanup();
  }
});

test('pairing end to end: code sent, operator approves, the running channel answers', async () => {
  const { dir, cleanup } = tempDir();
  const fake = await startFakeTelegram();
  try {
    const env = tgEnv(dir, fake);
    const run = startCli(['channels', 'telegram', '--max-messages', '1'], env);
    fake.message({ chatId: 777, text: 'hello', username: 'Carol' });
    await fake.waitFor(() => fake.sent.length === 1, 15_000, 'pairing code');
    const code = /pairing code is ([A-Z0-9-]+)/.exec(fake.sent[0]!.text)?.[1];
    assert.ok(code, fake.sent[0]!.text);
    assert.doesNotMatch(fake.sent[0]!.text, /Received/, 'the model never saw the stranger');

    const list = await runCli(['pairing', 'list'], { env });
    assert.equal(list.code, 0, list.stderr);
    const listed = JSON.parse(list.stdout);
    assert.equal(listed.pending.length, 1);
    assert.deepEqual({ ...listed.pending[0], created_at: 0, expires_at: 0 }, { channel: 'telegram', code, sender: '777', chat_id: '777', aliases: ['@Carol'], created_at: 0, expires_at: 0 });

    const bad = await runCli(['pairing', 'approve', 'telegram', 'ZZZZ-ZZZZ'], { env });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /no pending pairing code/);

    const ok = await runCli(['pairing', 'approve', 'telegram', code!], { env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).status, 'approved');
    assert.equal(JSON.parse(ok.stdout).sender, '777');

    fake.message({ chatId: 777, text: 'again', username: 'Carol' });
    const r = await run.result;
    assert.equal(r.code, 0, r.stderr);
    assert.match(fake.sent.at(-1)!.text, /Received 'again'/);
    const access = events(r.stderr).filter((e) => e.event === 'channel_access').map((e) => `${e.decision}:${e.status ?? e.via}`);
    assert.deepEqual(access, ['pairing:issued', 'allow:paired']);

    const revoked = await runCli(['pairing', 'revoke', 'telegram', '@Carol'], { env });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.deepEqual(JSON.parse(revoked.stdout), { status: 'revoked', channel: 'telegram', sender: '@Carol', removed: 1 });
    assert.deepEqual(JSON.parse((await runCli(['pairing', 'list'], { env })).stdout), { pending: [], approved: [] });
  } finally {
    await fake.close();
    cleanup();
  }
});

/** A fake OpenAI-compatible provider that takes `delayMs` per answer. */
async function slowProvider(delayMs: number) {
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const t = setTimeout(() => {
        timers.delete(t);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'slow but sure' } }] }));
      }, delayMs);
      timers.add(t);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = () => {
    for (const t of timers) clearTimeout(t);
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  };
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, close };
}

for (const [sig, name] of [['SIGTERM', 'terminate'], ['SIGINT', 'interrupt']] as const) {
  test(`${sig} during a slow turn: the reply is still sent, events in order, exit 0`, async () => {
    const { dir, cleanup } = tempDir();
    const fake = await startFakeTelegram();
    const provider = await slowProvider(1500);
    try {
      const env = tgEnv(dir, fake, { RUSTY_PINCH_CHANNELS_TELEGRAM_DM_POLICY: 'open', RUSTY_PINCH_PROVIDER: 'openai', RUSTY_PINCH_OPENAI_API_BASE: provider.base, RUSTY_PINCH_API_KEY: 'sk-test-key-for-fake' });
      const run = startCli(['channels', 'telegram'], env);
      fake.message({ chatId: 55, text: 'take your time' });
      await fake.waitFor(() => fake.actions.length > 0, 15_000, 'typing (turn started)');
      run.child.kill(sig);
      const r = await run.result;
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(fake.sent.map((s) => s.text), ['slow but sure']);
      const names = events(r.stderr).map((e) => e.event).filter((e) => ['channel_start', 'channel_signal', 'turn', 'channel_stop'].includes(e as string));
      assert.deepEqual(names, ['channel_start', 'channel_signal', 'turn', 'channel_stop']);
      const ev = events(r.stderr);
      assert.deepEqual(ev.find((e) => e.event === 'channel_signal'), { event: 'channel_signal', signal: name, action: 'graceful_stop' });
      assert.deepEqual(ev.at(-1), { event: 'channel_stop', channel: 'telegram', reason: 'signal' });
      assert.ok(!r.stderr.includes(fake.token.split(':')[1]!), 'token never logged');
    } finally {
      await provider.close();
      await fake.close();
      cleanup();
    }
  });
}

test('a second signal aborts the slow turn: the chat gets the friendly notice, exit 0', async () => {
  const { dir, cleanup } = tempDir();
  const fake = await startFakeTelegram();
  const provider = await slowProvider(20_000);
  try {
    const env = tgEnv(dir, fake, { RUSTY_PINCH_CHANNELS_TELEGRAM_DM_POLICY: 'open', RUSTY_PINCH_PROVIDER: 'openai', RUSTY_PINCH_OPENAI_API_BASE: provider.base, RUSTY_PINCH_API_KEY: 'sk-test-key-for-fake', RUSTY_PINCH_REQUEST_RETRIES: '0' });
    const run = startCli(['channels', 'telegram'], env);
    fake.message({ chatId: 56, text: 'this will take forever' });
    await fake.waitFor(() => fake.actions.length > 0, 15_000, 'typing (turn started)');
    run.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    run.child.kill('SIGINT');
    const r = await run.result;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fake.sent.map((s) => s.text), ['Sorry, something went wrong while I was answering. Please try again in a moment.']);
    const signals = events(r.stderr).filter((e) => e.event === 'channel_signal').map((e) => `${e.signal}:${e.action}`);
    assert.deepEqual(signals, ['terminate:graceful_stop', 'interrupt:abort_turns']);
    assert.ok(!fake.sent[0]!.text.includes('request_id'), 'no internal error text in the chat');
  } finally {
    await provider.close();
    await fake.close();
    cleanup();
  }
});

test('channels whatsapp --max-messages 1 answers through the bridge and exits 0', async () => {
  const { dir, cleanup } = tempDir();
  const bridge = await FakeWhatsAppBridge.start({ dialect: 'original' });
  try {
    const env = cleanEnv(dir, { RUSTY_PINCH_CHANNELS_WHATSAPP_ENABLED: 'true', RUSTY_PINCH_CHANNELS_WHATSAPP_BRIDGE_URL: bridge.url, RUSTY_PINCH_CHANNELS_WHATSAPP_ALLOW_FROM: '15550001', RUSTY_PINCH_SESSION_FSYNC: 'false' });
    const run = startCli(['channels', 'whatsapp', '--max-messages', '1'], env);
    await bridge.waitForClient(15_000);
    bridge.inbound({ from: '15550001', text: 'hi from whatsapp', id: 'm1' });
    const r = await run.result;
    assert.equal(r.code, 0, r.stderr);
    assert.match(String(bridge.outbound[0]?.content), /Received 'hi from whatsapp'/);
    const ev = events(r.stderr);
    assert.deepEqual(ev.find((e) => e.event === 'channel_start'), { event: 'channel_start', allow_from_count: 1, bridge_url: bridge.url, channel: 'whatsapp', dm_policy: 'allowlist', max_messages: 1, reconnect_ms: 2000 });
    assert.deepEqual(ev.at(-1), { event: 'channel_stop', channel: 'whatsapp', reason: 'max_messages' });
  } finally {
    await bridge.close();
    cleanup();
  }
});

test('garbage: bad flag values exit 2; bad settings exit 1; a corrupt offset file is moved aside', async () => {
  const { dir, cleanup } = tempDir();
  const fake = await startFakeTelegram();
  try {
    const env = tgEnv(dir, fake, { RUSTY_PINCH_CHANNELS_TELEGRAM_DM_POLICY: 'open' });
    for (const v of ['0', '-1', 'abc', '1.5', '', '99999999999999999999']) {
      const r = await runCli(['channels', 'telegram', '--max-messages', v], { env });
      assert.equal(r.code, 2, `--max-messages ${JSON.stringify(v)}: ${r.stderr}`);
    }
    const badWa = await runCli(['channels', 'whatsapp', '--max-messages', 'x'], { env });
    assert.equal(badWa.code, 2);
    const disabledWa = await runCli(['channels', 'whatsapp'], { env });
    assert.equal(disabledWa.code, 1);
    assert.match(disabledWa.stderr, /whatsapp channel is disabled; set RUSTY_PINCH_CHANNELS_WHATSAPP_ENABLED=true/);
    const badRoot = await runCli(['channels', 'telegram'], { env: { ...env, RUSTY_PINCH_CHANNELS_TELEGRAM_API_ROOT: 'ftp://nope' } });
    assert.equal(badRoot.code, 1);
    assert.match(badRoot.stderr, /API_ROOT is not an http\(s\) URL/);
    const disabled = await runCli(['channels', 'telegram'], { env: { ...env, RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED: 'false' } });
    assert.equal(disabled.code, 1);
    assert.match(disabled.stderr, /telegram channel is disabled/);
    for (const args of [['pairing', 'approve', 'sms', 'X'], ['pairing', 'approve', 'telegram'], ['pairing', 'revoke', 'telegram']]) {
      assert.equal((await runCli(args, { env })).code, 2, args.join(' '));
    }

    mkdirSync(join(dir, 'data', 'channels'), { recursive: true });
    writeFileSync(join(dir, 'data', 'channels', 'telegram-offset.json'), '\u0000garbage');
    writeFileSync(join(dir, 'data', 'channels', 'pairing.json'), '{"version":1');
    fake.message({ chatId: 12, text: 'still works' });
    const r = await runCli(['channels', 'telegram', '--max-messages', '1'], { env: { ...env, RUSTY_PINCH_CHANNELS_TELEGRAM_DM_POLICY: 'pairing', RUSTY_PINCH_CHANNELS_TELEGRAM_ALLOW_FROM: '12' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(fake.sent.at(-1)!.text, /Received 'still works'/);
    const files = readdirSync(join(dir, 'data', 'channels'));
    assert.ok(files.some((f) => f.startsWith('telegram-offset.json.corrupt-')), files.join(','));
    assert.ok(existsSync(join(dir, 'data', 'channels', 'telegram-offset.json')));
    assert.ok(events(r.stderr).some((e) => e.event === 'warning' && String(e.message).includes('telegram offset file is corrupt')));
  } finally {
    await fake.close();
    cleanup();
  }
});
