// WhatsApp adapter under the shared runner: allowlist entries match phone numbers and LIDs
// alike (Baileys `sender`/`pn` and the original's `from`), strangers get no model answer.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { AccessControl, ChannelRunner, PairingStore, createWhatsAppAdapter, type TurnHandler } from '../src/channels/index.js';
import { setEventSink } from '../src/observe/index.js';
import type { WhatsAppSettings } from '../src/config/index.js';
import { FakeWhatsAppBridge, type FakeDialect } from './fakes/whatsapp-bridge.js';
import { tempDir } from './helpers.js';

const restore = setEventSink(() => undefined);
const tmp = tempDir('rp-wa-runner-');
after(() => {
  setEventSink(restore);
  tmp.cleanup();
});

const echo: TurnHandler = async (input) => ({ status: 'ok', text: `model: ${input.text}` });

async function withRunner(dialect: FakeDialect, allowFrom: string[], fn: (b: FakeWhatsAppBridge) => Promise<void>): Promise<void> {
  const b = await FakeWhatsAppBridge.start({ dialect });
  const settings: WhatsAppSettings = { enabled: true, bridgeUrl: b.url, bridgeToken: undefined, allowFrom, dmPolicy: 'allowlist', reconnectMs: 100, dialect: 'auto' };
  const adapter = createWhatsAppAdapter(settings);
  const runner = new ChannelRunner({ adapter, access: new AccessControl({ channel: 'whatsapp', policy: 'allowlist', allowFrom, store: new PairingStore(tmp.dir) }), handle: echo });
  const ac = new AbortController();
  const done = runner.run(ac.signal);
  try {
    await b.waitForClient();
    await fn(b);
  } finally {
    ac.abort();
    await done;
    await b.close();
  }
}

const replyTo = (b: FakeWhatsAppBridge, to: string) => b.outbound.filter((f) => f.to === to).map((f) => String(f.text ?? f.content));

test('baileys: allowlisted by phone number reaches the model even when the sender is a LID', async () => {
  await withRunner('baileys', ['+4915550001'], async (b) => {
    b.inbound({ from: '88888888@lid', pn: '4915550001@s.whatsapp.net', text: 'by phone', id: 'P1' });
    b.inbound({ from: '77777777@lid', pn: '4915550099@s.whatsapp.net', text: 'stranger', id: 'P2' });
    await b.waitFor(() => b.outbound.length === 2, 5000, 'two answers');
    assert.deepEqual(replyTo(b, '88888888@lid'), ['model: by phone']);
    const refused = replyTo(b, '77777777@lid');
    assert.equal(refused.length, 1);
    assert.doesNotMatch(refused[0]!, /model:/, 'a stranger never reaches the model');
  });
});

test('baileys: allowlisted by LID', async () => {
  await withRunner('baileys', ['55555555'], async (b) => {
    b.inbound({ from: '4915550002@s.whatsapp.net', pn: '55555555@lid', text: 'by lid', id: 'L1' });
    await b.waitFor(() => b.outbound.length === 1, 5000, 'answer');
    assert.deepEqual(replyTo(b, '4915550002@s.whatsapp.net'), ['model: by lid']);
  });
});

test('original: allowlist entry with + matches a bare number, full JID matches too', async () => {
  await withRunner('original', ['+4915550003', '4915550004@s.whatsapp.net'], async (b) => {
    b.inbound({ from: '4915550003', text: 'plus form' });
    b.inbound({ from: '4915550004@s.whatsapp.net', text: 'jid form' });
    await b.waitFor(() => b.outbound.length === 2, 5000, 'answers');
    assert.deepEqual(replyTo(b, '4915550003'), ['model: plus form']);
    assert.deepEqual(replyTo(b, '4915550004@s.whatsapp.net'), ['model: jid form']);
  });
});
