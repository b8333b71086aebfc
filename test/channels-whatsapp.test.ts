// WhatsApp bridge adapter against fake bridges of both dialects on 127.0.0.1: replies reach the
// right chat, dialect detection, auth, duplicates, bad frames, kill/restart with queued replies.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createWhatsAppAdapter, type WhatsAppAdapter } from '../src/channels/whatsapp.js';
import { setEventSink } from '../src/observe/index.js';
import type { WhatsAppSettings } from '../src/config/index.js';
import type { ChannelMessage } from '../src/channels/types.js';
import { FakeWhatsAppBridge } from './fakes/whatsapp-bridge.js';

const captured: Array<Record<string, unknown>> = [];
const restoreSink = setEventSink((line) => captured.push(JSON.parse(line) as Record<string, unknown>));
process.on('exit', () => setEventSink(restoreSink));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  captured.length = 0;
});

function settings(over: Partial<WhatsAppSettings>): WhatsAppSettings {
  return { enabled: true, bridgeUrl: undefined, bridgeToken: undefined, allowFrom: [], dmPolicy: 'open', reconnectMs: 100, dialect: 'auto', ...over };
}

/** Runs the adapter with an echo handler; returns what it saw. */
function start(adapter: WhatsAppAdapter, handler?: (m: ChannelMessage) => Promise<void>) {
  const seen: ChannelMessage[] = [];
  const ac = new AbortController();
  const done = adapter.run(async (m) => {
    seen.push(m);
    if (handler) await handler(m);
    else await adapter.send(m.chatId, `echo: ${m.text}`);
  }, ac.signal);
  cleanups.push(async () => {
    ac.abort();
    await done;
  });
  return { seen, ac, done };
}

async function bridge(opts: Parameters<typeof FakeWhatsAppBridge.start>[0]) {
  const b = await FakeWhatsAppBridge.start(opts);
  cleanups.push(() => b.close());
  return b;
}

const ev = (name: string) => captured.filter((e) => e.event === name);

test('original dialect: reply reaches the right chat as {type:message,to,content}', async () => {
  const b = await bridge({ dialect: 'original' });
  const a = createWhatsAppAdapter(settings({ bridgeUrl: b.url }));
  const { seen } = start(a);
  await b.waitForClient();
  b.inbound({ from: '4915550001', text: 'hello' });
  b.inbound({ from: '4915550002', chat: 'team@g.us', text: 'group hi' });
  await b.waitFor(() => b.outbound.length === 2, 5000, 'two replies');
  assert.deepEqual(b.outbound.find((f) => f.to === '4915550001'), { type: 'message', to: '4915550001', content: 'echo: hello' });
  assert.deepEqual(b.outbound.find((f) => f.to === 'team@g.us'), { type: 'message', to: 'team@g.us', content: 'echo: group hi' });
  assert.equal(seen[1]!.isGroup, true);
  assert.equal(a.dialect, 'original');
  assert.equal(b.auths.length, 0);
  assert.ok(ev('channel_connected').length >= 1);
});

test('baileys dialect: auth frame first, reply as {type:send,to,text} to the sender JID', async () => {
  const b = await bridge({ dialect: 'baileys', token: 'bridge-secret-123' });
  const a = createWhatsAppAdapter(settings({ bridgeUrl: b.url, bridgeToken: 'bridge-secret-123' }));
  const { seen } = start(a);
  await b.waitForClient();
  assert.deepEqual(b.received[0], { type: 'auth', token: 'bridge-secret-123' });
  b.inbound({ from: '777@lid', pn: '4915550009@s.whatsapp.net', text: 'hi there', id: 'A1' });
  await b.waitFor(() => b.outbound.length === 1, 5000, 'reply');
  assert.deepEqual(b.outbound[0], { type: 'send', to: '777@lid', text: 'echo: hi there' });
  assert.equal(a.dialect, 'baileys');
  assert.ok(seen[0]!.senderAliases?.includes('+4915550009'));
  assert.ok(!JSON.stringify(captured).includes('bridge-secret-123'), 'the token is never logged');
});

test('auto dialect without a token detects baileys from the first inbound frame', async () => {
  const b = await bridge({ dialect: 'baileys' });
  const a = createWhatsAppAdapter(settings({ bridgeUrl: b.url }));
  start(a);
  await b.waitForClient();
  assert.equal(a.dialect, 'original', 'default guess without a token');
  b.inbound({ from: '4915550001@s.whatsapp.net', text: 'x', id: 'B1' });
  await b.waitFor(() => b.outbound.length === 1, 5000, 'reply');
  assert.equal(b.outbound[0]!.type, 'send');
  assert.deepEqual(ev('channel_dialect').map((e) => e.dialect), ['baileys']);
});

test('forced dialect wins over detection and skips the auth frame for original', async () => {
  const b = await bridge({ dialect: 'original' });
  const a = createWhatsAppAdapter(settings({ bridgeUrl: b.url, dialect: 'original', bridgeToken: 'tok-should-not-be-sent' }));
  start(a);
  await b.waitForClient();
  b.sendRaw(JSON.stringify({ type: 'message', id: 'C1', sender: '1234567@s.whatsapp.net', pn: '', content: 'baileys-shaped' }));
  await b.waitFor(() => b.outbound.length === 1, 5000, 'reply');
  assert.deepEqual(b.outbound[0], { type: 'message', to: '1234567@s.whatsapp.net', content: 'echo: baileys-shaped' });
  assert.ok(!b.received.some((f) => f.type === 'auth'));
});

test('inbound duplicates (same id) are dropped', async () => {
  const b = await bridge({ dialect: 'baileys' });
  const a = createWhatsAppAdapter(settings({ bridgeUrl: b.url }));
  const { seen } = start(a);
  await b.waitForClient();
  for (let i = 0; i < 3; i++) b.inbound({ from: '1@s.whatsapp.net', text: 'same', id: 'DUP' });
  b.inbound({ from: '1@s.whatsapp.net', text: 'other', id: 'NEW' });
  await b.waitFor(() => b.outbound.length === 2, 5000, 'two replies');
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(seen.map((m) => m.text), ['same', 'other']);
  assert.equal(b.outbound.length, 2);
  assert.equal(ev('channel_duplicate').length, 2);
  for (const d of ev('channel_duplicate')) assert.deepEqual(Object.keys(d).sort(), ['channel', 'chat_id', 'event', 'message_id', 'update_id'], 'one channel_duplicate shape everywhere');
});

test('bad frames are logged and ignored; the connection keeps working', async () => {
  const b = await bridge({ dialect: 'original' });
  const a = createWhatsAppAdapter(settings({ bridgeUrl: b.url }));
  const { seen } = start(a);
  await b.waitForClient();
  b.sendRaw('{not json');
  b.sendRaw('[1,2,3]');
  b.sendRaw('{"type":"message","content":"no sender"}');
  b.sendRaw('{"type":"mystery","x":1}');
  b.sendRaw('{"type":"qr","qr":"login-secret"}');
  b.sendRaw('{"type":"status","status":"disconnected"}');
  b.inbound({ from: '42424242', text: 'still here' });
  await b.waitFor(() => b.outbound.length === 1, 5000, 'reply');
  assert.deepEqual(seen.map((m) => m.text), ['still here']);
  assert.equal(ev('channel_parse_error').length, 4);
  assert.ok(!JSON.stringify(captured).includes('login-secret'), 'QR payload is not logged');
  assert.equal(b.connections, 1, 'no reconnect caused by bad frames');
});

test('bridge killed and restarted: reconnects and delivers the reply produced while down', async () => {
  const b = await bridge({ dialect: 'baileys', token: 'tok-restart-1' });
  const a = createWhatsAppAdapter(settings({ bridgeUrl: b.url, bridgeToken: 'tok-restart-1', reconnectMs: 100 }));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let handling = false;
  start(a, async (m) => {
    if (m.text === 'slow') {
      handling = true;
      await gate;
    }
    await a.send(m.chatId, `echo: ${m.text}`);
  });
  await b.waitForClient();
  await b.waitFor(() => a.isReady(), 3000, 'ready');
  b.inbound({ from: '5@s.whatsapp.net', text: 'slow', id: 'S1' });
  await b.waitFor(() => handling, 5000, 'the turn is being handled');
  await b.kill();
  await b.waitFor(() => !a.isReady(), 5000, 'adapter notices the drop');
  release();
  await b.waitFor(() => a.queueDepth === 1, 5000, 'reply queued');
  await b.waitFor(() => ev('channel_connect_error').length >= 1, 5000, 'a failed reconnect attempt');
  await b.restart();
  await b.waitFor(() => b.outbound.length === 1, 8000, 'queued reply after reconnect');
  assert.deepEqual(b.outbound[0], { type: 'send', to: '5@s.whatsapp.net', text: 'echo: slow' });
  assert.equal(b.auths.length, 2, 'auth re-sent on the new connection');
  assert.equal(a.queueDepth, 0);
  assert.ok(a.reconnects >= 1);
  // And the new connection carries new messages.
  b.inbound({ from: '5@s.whatsapp.net', text: 'after', id: 'S2' });
  await b.waitFor(() => b.outbound.length === 2, 5000, 'reply after reconnect');
});

test('bridge down at start: keeps retrying with backoff until it appears', async () => {
  const probe = await FakeWhatsAppBridge.start({ dialect: 'original' });
  const port = probe.port;
  await probe.kill();
  const a = createWhatsAppAdapter(settings({ bridgeUrl: `ws://127.0.0.1:${port}`, reconnectMs: 100 }));
  start(a);
  await probe.waitFor(() => ev('channel_connect_error').length >= 2, 5000, 'several attempts');
  assert.ok(!a.isReady());
  const b = await bridge({ dialect: 'original', port });
  await b.waitFor(() => a.isReady(), 5000, 'adapter connected');
});

test('a wrong token: the bridge closes 4003 and the error names the variable (token not logged)', async () => {
  const b = await bridge({ dialect: 'baileys', token: 'right-token-abc' });
  const a = createWhatsAppAdapter(settings({ bridgeUrl: b.url, bridgeToken: 'wrong-token-xyz' }), { maxBackoffMs: 60_000 });
  start(a);
  await b.waitFor(() => ev('channel_read_error').some((e) => String(e.error).includes('4003')), 5000, '4003 close');
  const err = ev('channel_read_error').find((e) => String(e.error).includes('4003'))!;
  assert.match(String(err.error), /BRIDGE_TOKEN/);
  assert.ok(!JSON.stringify(captured).includes('wrong-token-xyz'));
  assert.equal(b.connections, 1, 'slow backoff after an auth refusal');
});

test('dead peer (no pongs) is detected by the keepalive and the client reconnects', async () => {
  const b = await bridge({ dialect: 'original', deaf: true });
  const a = createWhatsAppAdapter(settings({ bridgeUrl: b.url, reconnectMs: 100 }), { pingIntervalMs: 100 });
  start(a);
  await b.waitFor(() => b.connections >= 2, 5000, 'reconnect after missed pong');
  assert.ok(ev('channel_read_error').some((e) => /no pong/.test(String(e.error))));
});

test('stop drains in-flight turns: the reply is still sent, then run() resolves', async () => {
  const b = await bridge({ dialect: 'original' });
  const a = createWhatsAppAdapter(settings({ bridgeUrl: b.url }));
  const ac = new AbortController();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let handling = false;
  const done = a.run(async (m) => {
    handling = true;
    await gate;
    await a.send(m.chatId, `late: ${m.text}`);
  }, ac.signal);
  let finished = false;
  void done.then(() => (finished = true));
  await b.waitForClient();
  b.inbound({ from: '111111', text: 'q' });
  await b.waitFor(() => handling, 5000, 'the turn is in flight');
  ac.abort();
  await new Promise((r) => setImmediate(r));
  assert.equal(finished, false, 'run() waits for the in-flight turn');
  release();
  await done;
  assert.deepEqual(b.outbound, [{ type: 'message', to: '111111', content: 'late: q' }]);
});

test('bad bridge URLs are refused with a clear message', () => {
  for (const url of [undefined, '', 'http://127.0.0.1:3001', 'not a url', 'localhost:3001', 'ws://']) {
    assert.throws(() => createWhatsAppAdapter(settings({ bridgeUrl: url })), /BRIDGE_URL/, String(url));
  }
  assert.doesNotThrow(() => createWhatsAppAdapter(settings({ bridgeUrl: 'wss://bridge.example:443/ws' })));
});

test('send while disconnected with a full queue throws a classified error', async () => {
  const a = createWhatsAppAdapter(settings({ bridgeUrl: 'ws://127.0.0.1:1' }), { queueLimit: 1 });
  await a.send('c', 'one');
  assert.equal(a.queueDepth, 1);
  await assert.rejects(a.send('c', 'two'), (e: Error & { code?: string }) => e.code === 'network' && /queue|wait/.test(e.message));
});
