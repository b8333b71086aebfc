// Operator approvals from chat, in-process through the channel host and a fake Telegram:
// `/pending`, `/approve`, `/reject` decide approvals only in RUSTY_PINCH_OPERATOR_CHATS; from
// any other chat the same text is an ordinary turn and approves nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../src/app/index.js';
import { runChannelForeground } from '../src/app/channel-host.js';
import { settingsFromEnv } from '../src/config/index.js';
import { setEventSink } from '../src/observe/index.js';
import { SkillLibrary } from '../src/evolution/skills/index.js';
import { startFakeTelegram } from './fakes/telegram-api.js';
import { cleanEnv, tempDir } from './helpers.js';

test('only the operator chat approves; a stranger sending /approve gets an ordinary turn', async () => {
  const fake = await startFakeTelegram();
  const { dir, cleanup } = tempDir('rp-evo-chat-');
  const lines: string[] = [];
  const prev = setEventSink((l) => lines.push(l));
  try {
    const env = cleanEnv(dir, {
      RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED: 'true',
      RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN: fake.token,
      RUSTY_PINCH_CHANNELS_TELEGRAM_API_ROOT: fake.url,
      RUSTY_PINCH_CHANNELS_TELEGRAM_DM_POLICY: 'open',
      RUSTY_PINCH_CHANNELS_TELEGRAM_POLL_TIMEOUT_SECS: '1',
      RUSTY_PINCH_SESSION_FSYNC: 'false',
      RUSTY_PINCH_OPERATOR_CHATS: 'telegram:100, whatsapp:5@s.whatsapp.net, bogus',
    });
    const settings = settingsFromEnv(env, dir);
    assert.deepEqual(settings.pulse.operatorChats, ['telegram:100', 'whatsapp:5@s.whatsapp.net']);
    const app = await createApp({ settings });
    // A validated candidate in staging, waiting for the operator.
    const lib = new SkillLibrary(join(settings.workspace, 'skills'), 'greet');
    lib.stage('// Greets.\nfunction main(a) { return "hi " + a }\n', { valid: true, attempt: 1 });
    const pulse = await app.pulse();
    const approval = await pulse.requestSkillPromotion({ skill: 'greet', goal: 'greet people', replace: false, reasons: ['tagged @risky'], summary: 'description: Greets.' });

    const stop = new AbortController();
    const run = runChannelForeground('telegram', { app, signal: stop.signal });
    try {
    fake.message({ chatId: 200, fromId: 200, text: `/approve ${approval.token}` });
    await fake.waitFor(() => fake.sent.length === 1, 10_000, 'stranger reply');
    assert.doesNotMatch(fake.sent[0]!.text, /Approved/);
    assert.ok(app.sessions.tail('telegram:200', 10).some((r) => r.role === 'user' && r.content === `/approve ${approval.token}`), 'an ordinary turn');
    assert.equal((pulse.status().pending_approvals as unknown[]).length, 1);
    assert.ok(!existsSync(lib.livePath));

    fake.message({ chatId: 100, fromId: 100, text: '/pending' });
    await fake.waitFor(() => fake.sent.length === 2, 10_000, '/pending reply');
    assert.match(fake.sent[1]!.text, new RegExp(`1 pending:[\\s\\S]*${approval.token}[\\s\\S]*promote generated skill 'greet'`));
    fake.message({ chatId: 100, fromId: 100, text: '/reject pa-unknown' });
    await fake.waitFor(() => fake.sent.length === 3, 10_000, '/reject reply');
    assert.match(fake.sent[2]!.text, /reject failed: approval token 'pa-unknown' was not found/);
    fake.message({ chatId: 100, fromId: 100, text: '/approve' });
    await fake.waitFor(() => fake.sent.length === 4, 10_000, 'usage reply');
    assert.match(fake.sent[3]!.text, /usage: \/approve TOKEN/);
    fake.message({ chatId: 100, fromId: 100, text: `/approve ${approval.token}` });
    await fake.waitFor(() => fake.sent.length === 5, 10_000, '/approve reply');
    assert.match(fake.sent[4]!.text, /Approved pa-[0-9a-f]+: promote generated skill 'greet'[\s\S]*ok: skill 'greet' promoted/);
    assert.ok(existsSync(lib.livePath));
    assert.ok(!app.sessions.tail('telegram:100', 10).some((r) => r.content.includes('/approve')), 'operator commands are not model turns');
    } finally {
      stop.abort();
      await run.catch(() => undefined);
      await app.close();
    }
    const cmds = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === 'operator_command');
    assert.deepEqual(cmds.map((e) => `${String(e.command)}:${String(e.status)}`), ['pending:ok', 'reject:error', 'approve:ok', 'approve:ok']);
  } finally {
    setEventSink(prev);
    await fake.close();
    cleanup();
  }
});
