// WhatsApp bridge frames: both dialects, control frames, garbage, JID aliases, support pieces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BridgeParseError, encodeOutbound, jidAliases, normaliseJid, parseBridgeFrame } from '../src/channels/whatsapp-protocol.js';
import { OutboundQueue, RecentIds, backoffDelay, describeUrl } from '../src/channels/whatsapp-support.js';

test('original dialect: from/chat/content, chat defaults to from', () => {
  const f = parseBridgeFrame(JSON.stringify({ type: 'message', from: ' 4915550001 ', content: ' hi ' }));
  assert.equal(f.kind, 'message');
  if (f.kind !== 'message') return;
  assert.equal(f.dialect, 'original');
  assert.equal(f.message.chatId, '4915550001');
  assert.equal(f.message.senderId, '4915550001');
  assert.equal(f.message.text, 'hi');
  assert.equal(f.message.isGroup, false);
  assert.ok(f.message.senderAliases?.includes('+4915550001'));
  const g = parseBridgeFrame(JSON.stringify({ type: 'message', from: 'a', chat: 'grp@g.us', content: 'x', id: 'm1' }));
  assert.ok(g.kind === 'message' && g.message.isGroup && g.message.chatId === 'grp@g.us' && g.message.messageId === 'm1');
});

test('baileys dialect: sender is the chat, pn and LID become aliases', () => {
  const f = parseBridgeFrame(JSON.stringify({ type: 'message', id: 'X1', sender: '123456789@lid', pn: '4915550002@s.whatsapp.net', content: 'yo', timestamp: 1, isGroup: false }));
  assert.ok(f.kind === 'message');
  if (f.kind !== 'message') return;
  assert.equal(f.dialect, 'baileys');
  assert.equal(f.message.chatId, '123456789@lid');
  assert.equal(f.message.senderId, '123456789@lid');
  const aliases = f.message.senderAliases ?? [];
  for (const a of ['123456789', '4915550002', '+4915550002', '4915550002@s.whatsapp.net']) assert.ok(aliases.includes(a), a);
  assert.ok(!aliases.includes('+123456789'), 'a LID is not a phone number');
  const grp = parseBridgeFrame(JSON.stringify({ type: 'message', id: 'X2', sender: '999@g.us', pn: '', participant: '4915550003:7@s.whatsapp.net', content: 'hey', isGroup: true }));
  assert.ok(grp.kind === 'message' && grp.message.chatId === '999@g.us' && grp.message.senderId === '4915550003@s.whatsapp.net' && grp.message.isGroup);
});

test('ignored and control frames', () => {
  assert.equal(parseBridgeFrame('{"type":"message","from":"a","content":"   "}').kind, 'ignored');
  assert.equal(parseBridgeFrame('{"type":"message","sender":"status@broadcast","content":"x"}').kind, 'ignored');
  assert.equal(parseBridgeFrame('{"type":"message","sender":"1@s.whatsapp.net","content":"x","fromMe":true}').kind, 'ignored');
  assert.deepEqual(parseBridgeFrame('{"type":"status","status":"connected"}'), { kind: 'status', status: 'connected' });
  assert.deepEqual(parseBridgeFrame('{"type":"qr","qr":"secret-pairing-payload"}'), { kind: 'qr' });
  assert.deepEqual(parseBridgeFrame('{"type":"sent","to":"1@s.whatsapp.net"}'), { kind: 'sent', to: '1@s.whatsapp.net' });
  assert.equal(parseBridgeFrame('{"type":"error","error":"Not connected"}').kind, 'error');
  assert.deepEqual(parseBridgeFrame('{"type":"weird"}'), { kind: 'unknown', type: 'weird' });
});

test('garbage frames throw BridgeParseError', () => {
  for (const bad of ['', 'not json', '[]', '42', 'null', '"message"', '{}', '{"type":5}', '{"type":"message"}', '{"type":"message","from":"","content":"x"}', '{"type":"message","from":7,"content":"x"}', '{"type":"message","sender":"  ","content":"x"}', '{"type":"message","from":"' + 'x'.repeat(600) + '","content":"x"}']) {
    assert.throws(() => parseBridgeFrame(bad), BridgeParseError, bad.slice(0, 40));
  }
});

test('outbound frames per dialect', () => {
  assert.deepEqual(JSON.parse(encodeOutbound('original', 'c1', 'hello')), { type: 'message', to: 'c1', content: 'hello' });
  assert.deepEqual(JSON.parse(encodeOutbound('baileys', 'c1@lid', 'hello')), { type: 'send', to: 'c1@lid', text: 'hello' });
});

test('jid helpers', () => {
  assert.equal(normaliseJid('123:4@s.whatsapp.net'), '123@s.whatsapp.net');
  assert.equal(normaliseJid('123:4'), '123');
  assert.deepEqual(jidAliases('grp@g.us').sort(), ['grp', 'grp@g.us']);
  assert.ok(jidAliases('+4915550001').includes('4915550001'));
});

test('support: queue bound and ttl, recent ids, backoff, url checks', () => {
  let now = 0;
  const q = new OutboundQueue(2, 1000, () => now);
  assert.ok(q.push({ chatId: 'a', text: '1' }));
  assert.ok(q.push({ chatId: 'a', text: '2' }));
  assert.ok(!q.push({ chatId: 'a', text: '3' }), 'bounded');
  now = 2000;
  assert.equal(q.dropExpired().length, 2);
  assert.equal(q.size, 0);

  const ids = new RecentIds(2);
  assert.ok(!ids.checkAndAdd('a'));
  assert.ok(ids.checkAndAdd('a'));
  ids.checkAndAdd('b');
  ids.checkAndAdd('c');
  assert.ok(!ids.checkAndAdd('a'), 'evicted after capacity');

  assert.equal(backoffDelay(0, 100, 1000, () => 0), 50);
  assert.equal(backoffDelay(0, 100, 1000, () => 1), 100);
  assert.equal(backoffDelay(3, 100, 1000, () => 1), 800);
  assert.equal(backoffDelay(50, 100, 1000, () => 1), 1000, 'capped');
  assert.equal(backoffDelay(1e9, 100, 1000, () => 0.5), 750);

  assert.deepEqual(describeUrl('ws://user:pw@127.0.0.1:3001/?token=abc'), { ok: true, safe: 'ws://127.0.0.1:3001' });
  assert.ok(describeUrl('wss://bridge.example/ws').ok);
  for (const bad of ['', 'localhost:3001', 'http://127.0.0.1:3001', 'ws://', '::::', 'ftp://x']) assert.equal(describeUrl(bad).ok, false, bad);
});
