// The Telegram adapter against the loopback fake Bot API, in-process with the shared runner:
// routing, journal, duplicates and garbage updates, HTML fallback, 429 and 5xx, the stall
// watchdog, long replies, fatal token errors and token redaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AccessControl, ChannelRunner, PairingStore, TelegramAdapter, TelegramJournal, type TurnHandler } from '../src/channels/index.js';
import { classifyError } from '../src/channels/telegram-api.js';
import type { TelegramSettings } from '../src/config/index.js';
import { setEventSink } from '../src/observe/index.js';
import { startFakeTelegram, type FakeTelegram } from './fakes/telegram-api.js';
import { tempDir } from './helpers.js';

const settings = (fake: { token: string; url: string }, extra: Partial<TelegramSettings> = {}): TelegramSettings => ({
  enabled: true,
  token: fake.token,
  allowFrom: [],
  dmPolicy: 'open',
  pollTimeoutSecs: 1,
  pollIntervalMs: 0,
  requestTimeoutSecs: 10,
  apiRoot: fake.url,
  stallSecs: 120,
  drainSecs: 5,
  ...extra,
});

const echo: TurnHandler = async ({ text, chatId }) => ({ status: 'ok', text: `echo ${chatId}: ${text}` });

async function harness(fake: FakeTelegram, opts: { handle?: TurnHandler; extra?: Partial<TelegramSettings>; stallMs?: number; maxMessages?: number } = {}) {
  const { dir, cleanup } = tempDir();
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  const adapter = new TelegramAdapter(settings(fake, opts.extra), { dataDir: dir, backoffBaseMs: 50, stallMs: opts.stallMs });
  const access = new AccessControl({ channel: 'telegram', policy: 'open', allowFrom: [], store: new PairingStore(dir) });
  const runner = new ChannelRunner({ adapter, access, handle: opts.handle ?? echo, maxMessages: opts.maxMessages, drainMs: 2000 });
  const stop = new AbortController();
  const done = runner.run(stop.signal);
  const events = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    dir,
    adapter,
    events,
    lines,
    done,
    async finish() {
      stop.abort();
      try {
        return await done;
      } finally {
        setEventSink(prev);
        cleanup();
      }
    },
  };
}

test('replies reach the right chat, as HTML, with typing; the journal keeps the offset', async () => {
  const fake = await startFakeTelegram();
  const h = await harness(fake);
  try {
    const id1 = fake.message({ chatId: 101, text: 'hello *there*' });
    fake.message({ chatId: 202, text: 'second chat' });
    await fake.waitFor(() => fake.sent.length >= 2, 10_000, 'two replies');
    const byChat = Object.fromEntries(fake.sent.map((s) => [s.chat_id, s]));
    assert.equal(byChat['101']!.text, 'echo 101: hello <i>there</i>');
    assert.equal(byChat['101']!.parse_mode, 'HTML');
    assert.equal(byChat['202']!.text, 'echo 202: second chat');
    assert.ok(fake.actions.some((a) => a.chat_id === '101' && a.action === 'typing'));
    assert.ok(fake.calls.some((c) => c.method === 'deleteWebhook'));
    await fake.waitFor(() => {
      const j = new TelegramJournal(h.dir).load(fake.token.split(':')[0]!);
      return j.offset === id1 + 2 && j.pending.size === 0;
    }, 5000, 'journal caught up');
    const gu = fake.calls.filter((c) => c.method === 'getUpdates').at(-1)!;
    assert.deepEqual(gu.body.allowed_updates, ['message']);
    assert.ok(h.adapter.isReady());
  } finally {
    await h.finish();
    await fake.close();
  }
  assert.equal(h.adapter.isReady(), false);
});

test('duplicates, edits, bots, non-text and garbage updates are dropped without answers', async () => {
  const fake = await startFakeTelegram();
  const h = await harness(fake);
  try {
    const first = fake.message({ chatId: 5, text: 'one', messageId: 77 });
    await fake.waitFor(() => fake.sent.length === 1, 10_000, 'first reply');
    await fake.waitFor(() => fake.confirmed() > first, 5000, 'offset confirmed');
    // The server re-delivers an old update, and the same message again under a new update id.
    fake.raw({ update_id: first, message: { message_id: 77, chat: { id: 5, type: 'private' }, from: { id: 5 }, text: 'one' } });
    fake.update({ message: { message_id: 77, chat: { id: 5, type: 'private' }, from: { id: 5 }, text: 'one' } });
    fake.update({ edited_message: { message_id: 77, chat: { id: 5 }, from: { id: 5 }, text: 'one (edited)' } });
    fake.message({ chatId: 5, text: 'from a bot', isBot: true });
    fake.message({ chatId: 5 }); // a sticker: no text
    fake.update({ callback_query: { id: 'x' } });
    fake.update({ message: { chat: { id: 'not-a-number' }, text: 'bad chat' } });
    fake.update({ message: 'garbage' });
    fake.raw(42);
    fake.raw({ no: 'update_id' });
    fake.raw({ update_id: -5, message: {} });
    fake.message({ chatId: 5, text: 'two' });
    await fake.waitFor(() => fake.sent.length >= 2, 10_000, 'second reply');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(fake.sent.map((s) => s.text), ['echo 5: one', 'echo 5: two']);
    const skipped = h.events().filter((e) => e.event === 'channel_update_skipped').map((e) => e.reason);
    for (const r of ['edited', 'bot', 'no_text', 'unsupported', 'malformed', 'invalid']) assert.ok(skipped.includes(r), `skipped ${r}: ${skipped}`);
    const dups = h.events().filter((e) => e.event === 'channel_duplicate');
    assert.equal(dups.length, 2);
    for (const d of dups) assert.deepEqual(Object.keys(d).sort(), ['channel', 'chat_id', 'event', 'message_id', 'update_id'], 'one channel_duplicate shape everywhere');
  } finally {
    await h.finish();
    await fake.close();
  }
});

test('HTML Telegram cannot parse is re-sent as plain text', async () => {
  const fake = await startFakeTelegram();
  fake.rejectHtml = true;
  const h = await harness(fake, { handle: async () => ({ status: 'ok', text: 'a **b** <c>' }) });
  try {
    fake.message({ chatId: 9, text: 'x' });
    await fake.waitFor(() => fake.sent.length === 1, 10_000, 'plain reply');
    assert.deepEqual({ text: fake.sent[0]!.text, mode: fake.sent[0]!.parse_mode }, { text: 'a **b** <c>', mode: undefined });
    assert.ok(h.events().some((e) => e.event === 'channel_format_fallback'));
  } finally {
    await h.finish();
    await fake.close();
  }
});

test('429 retry_after is honoured; 5xx on poll and send back off and recover', async () => {
  const fake = await startFakeTelegram();
  fake.script('getUpdates', { status: 502, description: 'Bad Gateway' });
  fake.script('sendMessage', { status: 429, retryAfter: 1 }, { status: 500 });
  const h = await harness(fake);
  try {
    fake.message({ chatId: 3, text: 'hi' });
    await fake.waitFor(() => fake.sent.length === 1, 15_000, 'reply after 429 and 500');
    const sends = fake.calls.filter((c) => c.method === 'sendMessage');
    assert.equal(sends.length, 3);
    assert.ok(sends[1]!.at - sends[0]!.at >= 900, `waited retry_after: ${sends[1]!.at - sends[0]!.at} ms`);
    assert.ok(h.events().some((e) => e.event === 'channel_poll_error' && String(e.error).includes('502')));
  } finally {
    await h.finish();
    await fake.close();
  }
});

test('a send that hangs up is retried (fate unknown: at-least-once); none is lost', async () => {
  const fake = await startFakeTelegram();
  // 1st reply: the socket is closed before any answer (not delivered), then accepted.
  // 2nd reply: Telegram takes it, but the answer never arrives: the retry may duplicate it.
  fake.script('sendMessage', { reset: true });
  const h = await harness(fake);
  try {
    fake.message({ chatId: 4, text: 'one' });
    await fake.waitFor(() => fake.sent.some((s) => s.text === 'echo 4: one'), 15_000, 'reply after a hang-up');
    fake.script('sendMessage', { reset: true, deliver: true });
    fake.message({ chatId: 4, text: 'two' });
    await fake.waitFor(() => fake.sent.filter((s) => s.text === 'echo 4: two').length === 2, 15_000, 'reply after an unknown-fate send');
    assert.equal(fake.sent.filter((s) => s.text === 'echo 4: one').length, 1);
    const retries = h.events().filter((e) => e.event === 'channel_send_retry');
    assert.equal(retries.length, 2);
    assert.ok(retries.every((e) => e.fate === 'unknown' && /socket hang up/.test(String(e.error)) && !String(e.error).includes(fake.token)));
    assert.ok(!h.events().some((e) => e.event === 'channel_send_error'));
  } finally {
    await h.finish();
    await fake.close();
  }
});

test('classifyError: refused and DNS failures never reached Telegram; resets and timeouts have an unknown fate; answers are neither', () => {
  const net = (code: string | undefined, message = 'x') => ({ name: 'HttpError', message: 'Network request failed!', error: Object.assign(new Error(message), code ? { code } : {}) });
  assert.equal(classifyError(net('ECONNREFUSED'), 't').notSent, true);
  assert.equal(classifyError(net('ENOTFOUND'), 't').notSent, true);
  for (const e of [net('ECONNRESET', 'socket hang up'), net('EPIPE'), net(undefined, "Request to 'sendMessage' timed out after 1 seconds")]) {
    const c = classifyError(e, 't');
    assert.equal(c.notSent, false);
    assert.equal(c.unknownFate, true);
  }
  const answered = classifyError({ error_code: 400, description: 'Bad Request: chat not found' }, 't');
  assert.equal(answered.notSent || answered.unknownFate, false);
});

test('a stalled poll is detected and polling restarted', async () => {
  const fake = await startFakeTelegram();
  fake.script('getUpdates', { hang: true });
  // The request timeout is far longer than the test: only the watchdog can rescue the poll.
  const h = await harness(fake, { stallMs: 600, extra: { requestTimeoutSecs: 60 } });
  try {
    fake.message({ chatId: 4, text: 'are you there' });
    await fake.waitFor(() => fake.sent.length === 1, 10_000, 'reply after restart');
    assert.ok(h.events().some((e) => e.event === 'channel_poll_stall' && e.action === 'restart_polling'));
    assert.equal(h.adapter.stallRestarts >= 1, true);
  } finally {
    await h.finish();
    await fake.close();
  }
});

test('a long reply is split within 4096 with code fences intact', async () => {
  const fake = await startFakeTelegram();
  const code = Array.from({ length: 400 }, (_, i) => `const v${i} = "<${i}>" && ${i};`).join('\n');
  const long = `Here you go:\n\n\`\`\`js\n${code}\n\`\`\`\n\n${'Done. '.repeat(300)}`;
  const h = await harness(fake, { handle: async () => ({ status: 'ok', text: long }) });
  try {
    fake.message({ chatId: 8, text: 'code please' });
    await fake.waitFor(() => fake.sent.length >= 3 && fake.sent.at(-1)!.text.includes('Done.'), 10_000, 'all pieces');
    for (const s of fake.sent) {
      assert.ok(s.text.length <= 4096, `piece ${s.text.length}`);
      assert.equal((s.text.match(/<pre>|<pre><code[^>]*>/g) ?? []).length, (s.text.match(/<\/pre>/g) ?? []).length, 'balanced pre');
    }
    const codeText = fake.sent.map((s) => s.text).join('\n');
    for (const i of [0, 199, 399]) assert.ok(codeText.includes(`const v${i} = &quot;&lt;${i}&gt;&quot;`) || codeText.includes(`const v${i} = "&lt;${i}&gt;"`), `line ${i}`);
  } finally {
    await h.finish();
    await fake.close();
  }
});

test('a rejected token stops the channel with a clear error that never shows the token', async () => {
  const fake = await startFakeTelegram({ token: '999:RealTokenShouldNeverBeLogged_abcdefghijklmn' });
  const h = await harness({ token: '999:WrongTokenShouldNeverBeLogged_abcdefghijk', url: fake.url } as FakeTelegram);
  try {
    await assert.rejects(h.done, (err: Error) => /401/.test(err.message) && /RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN/.test(err.message) && !err.message.includes('WrongToken'));
  } finally {
    await h.finish().catch(() => undefined);
    await fake.close();
  }
});

test('network errors are logged without the token, and a corrupt journal is moved aside', async () => {
  const { dir, cleanup } = tempDir();
  mkdirSync(join(dir, 'channels'), { recursive: true });
  const token = '424242:NetworkTokenMustStayHidden_abcdefghijklmnop';
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  try {
    // Nothing listens on this port: getMe fails with ECONNREFUSED (its fetch error names the URL).
    const adapter = new TelegramAdapter(settings({ token, url: 'http://127.0.0.1:9' }), { dataDir: dir, backoffBaseMs: 50 });
    const stop = new AbortController();
    const run = adapter.run(async () => undefined, stop.signal);
    await new Promise((r) => setTimeout(r, 400));
    stop.abort();
    await run;
    const errors = lines.filter((l) => l.includes('channel_poll_error'));
    assert.ok(errors.length >= 1);
    assert.ok(lines.every((l) => !l.includes('NetworkTokenMustStayHidden')), lines.join(''));

    const fake = await startFakeTelegram();
    try {
      writeFileSync(join(dir, 'channels', 'telegram-offset.json'), '{"version":1,"offset":"soon"');
      const a2 = new TelegramAdapter(settings(fake), { dataDir: dir, backoffBaseMs: 50 });
      const stop2 = new AbortController();
      const seen: string[] = [];
      const run2 = a2.run(async (m) => void seen.push(m.text), stop2.signal);
      fake.message({ chatId: 1, text: 'after corruption' });
      await fake.waitFor(() => seen.length === 1, 10_000, 'message after corrupt journal');
      stop2.abort();
      await run2;
      assert.ok(readdirSync(join(dir, 'channels')).some((f) => f.startsWith('telegram-offset.json.corrupt-')));
      assert.ok(existsSync(join(dir, 'channels', 'telegram-offset.json')));
    } finally {
      await fake.close();
    }
  } finally {
    setEventSink(prev);
    cleanup();
  }
});

test('garbage: a journal offset past every update id (9e15) makes the channel not ready, never silently deaf', async () => {
  const fake = await startFakeTelegram();
  const { dir, cleanup } = tempDir();
  mkdirSync(join(dir, 'channels'), { recursive: true });
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  try {
    const botId = fake.token.split(':')[0]!;
    const journal = (offset: number) => JSON.stringify({ version: 1, bot_id: botId, offset, pending: [], updated_at: new Date().toISOString() });
    const polled = (n: number) => () => fake.calls.filter((c) => c.method === 'getUpdates').length >= n;
    writeFileSync(join(dir, 'channels', 'telegram-offset.json'), journal(9e15));
    const deaf = new TelegramAdapter(settings(fake), { dataDir: dir, backoffBaseMs: 50 });
    const stop = new AbortController();
    const run = deaf.run(async () => undefined, stop.signal);
    await fake.waitFor(polled(1), 10_000, 'first poll');
    assert.equal(deaf.isReady(), false);
    assert.ok(lines.some((l) => l.includes('"event":"channel_deaf"')), lines.join(''));
    stop.abort();
    await run;
    // The same file with a sane offset: ready once polling.
    writeFileSync(join(dir, 'channels', 'telegram-offset.json'), journal(5));
    const fine = new TelegramAdapter(settings(fake), { dataDir: dir, backoffBaseMs: 50 });
    const stop2 = new AbortController();
    const run2 = fine.run(async () => undefined, stop2.signal);
    const before = fake.calls.filter((c) => c.method === 'getUpdates').length;
    await fake.waitFor(polled(before + 1), 10_000, 'poll with a sane offset');
    assert.equal(fine.isReady(), true);
    stop2.abort();
    await run2;
  } finally {
    setEventSink(prev);
    cleanup();
    await fake.close();
  }
});
