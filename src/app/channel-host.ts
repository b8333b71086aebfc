// Composition for channels: builds the access control and the turn handler over the runtime door
// for one adapter, and runs one channel in the foreground (`channels telegram|whatsapp`) with the
// outbox drainer for that channel and SIGINT/SIGTERM as a graceful stop. `serve` reuses the parts.
import { emitEvent } from '../observe/index.js';
import { AccessControl, ChannelRunner, PairingStore, createTelegramAdapter, createWhatsAppAdapter, type ChannelAdapter, type StopReason, type TurnHandler } from '../channels/index.js';
import type { Settings } from '../config/index.js';
import { ConfigError, parseTarget } from '../kernel/index.js';
import { createApp, type App } from './create-app.js';
import { withOperatorCommands } from './operator-commands.js';
import type { TurnDoor } from '../kernel/index.js';
import { outboxComponent } from './serve-components.js';

export type ChannelName = 'telegram' | 'whatsapp';
export const CHANNEL_NAMES: readonly ChannelName[] = ['telegram', 'whatsapp'];

/** The runner's turn handler: one Runtime.handle per message, session `<channel>:<chat id>`. */
export function runtimeTurnHandler(runtime: TurnDoor): TurnHandler {
  return async (input) => {
    const reply = await runtime.handle({ sessionId: input.sessionId, text: input.text, channel: input.channel, chatId: input.chatId, senderId: input.senderId, messageId: input.messageId, signal: input.signal });
    return { status: reply.status, text: reply.text, ...(reply.deferred ? { deferred: true } : {}) };
  };
}

/** Who may talk on `channel`, from its allowlist and DM policy; pairings live under the data dir. */
export function channelAccess(settings: Settings, channel: ChannelName, store = new PairingStore(settings.dataDir), onPairingFull?: (text: string) => void): AccessControl {
  const c = settings.channels[channel];
  return new AccessControl({ channel, policy: c.dmPolicy, allowFrom: c.allowFrom, store, ...(onPairingFull ? { onPairingFull } : {}) });
}

/** Fails fast, with the original's messages, when a channel is disabled or lacks credentials. */
export function checkChannelSettings(settings: Settings, channel: ChannelName): void {
  if (channel === 'telegram') {
    const t = settings.channels.telegram;
    if (!t.enabled) throw new ConfigError('telegram channel is disabled; set RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED=true');
    if (!t.token) throw new ConfigError('RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN is required when telegram channel is enabled', { hint: 'create a bot with @BotFather and put its token in RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN' });
    if (t.apiRoot !== undefined) {
      let ok = false;
      try {
        ok = ['http:', 'https:'].includes(new URL(t.apiRoot).protocol);
      } catch {
        ok = false;
      }
      if (!ok) throw new ConfigError(`RUSTY_PINCH_CHANNELS_TELEGRAM_API_ROOT is not an http(s) URL: ${t.apiRoot}`);
    }
    return;
  }
  const w = settings.channels.whatsapp;
  if (!w.enabled) throw new ConfigError('whatsapp channel is disabled; set RUSTY_PINCH_CHANNELS_WHATSAPP_ENABLED=true');
  if (!w.bridgeUrl) throw new ConfigError('RUSTY_PINCH_CHANNELS_WHATSAPP_BRIDGE_URL is required when whatsapp channel is enabled');
}

/** The platform adapter for `channel` (settings must have passed checkChannelSettings). */
export async function createChannelAdapter(settings: Settings, channel: ChannelName): Promise<ChannelAdapter> {
  try {
    if (channel === 'telegram') return createTelegramAdapter(settings.channels.telegram, { dataDir: settings.dataDir });
    return createWhatsAppAdapter(settings.channels.whatsapp);
  } catch (err) {
    // Invalid settings the adapter found (e.g. a bridge URL that is not ws/wss): exit 1, clearly.
    throw new ConfigError((err as Error).message, { cause: err });
  }
}

/** Bridge URL without credentials or query, for logs. */
function safeUrl(raw: string | undefined): string | null {
  if (!raw) return null;
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

/** `channel_start` with the original's fields (keys sorted, as its json! macro printed them). */
export function emitChannelStart(settings: Settings, channel: ChannelName, maxMessages: number | undefined): void {
  if (channel === 'telegram') {
    const t = settings.channels.telegram;
    emitEvent('channel_start', { allow_from_count: t.allowFrom.length, channel, dm_policy: t.dmPolicy, max_messages: maxMessages ?? null, poll_interval_ms: t.pollIntervalMs, poll_timeout_secs: t.pollTimeoutSecs });
  } else {
    const w = settings.channels.whatsapp;
    emitEvent('channel_start', { allow_from_count: w.allowFrom.length, bridge_url: safeUrl(w.bridgeUrl), channel, dm_policy: w.dmPolicy, max_messages: maxMessages ?? null, reconnect_ms: w.reconnectMs });
  }
}

export interface HostedChannel {
  runner: ChannelRunner;
  adapter: ChannelAdapter;
  /** Releases what hosting took (nothing today; kept for the supervisor's restart loop). */
  dispose(): void;
}

/** A runner for `adapter` wired to the app's runtime door and access control. */
export function hostChannel(app: App, adapter: ChannelAdapter, options: { maxMessages?: number; drainMs?: number } = {}): HostedChannel {
  const channel = adapter.name as ChannelName;
  const settings = app.settings;
  // A full pairing table is told to every operator target (RUSTY_PINCH_PULSE_NOTIFY) on the one
  // road out, so it reaches a chat on another channel too and survives a restart.
  const tellOperator = (text: string): void => {
    for (const target of settings.pulse.notify) {
      const t = parseTarget(target);
      if (!t) continue;
      app.outbox.enqueue({ kind: 'notification', channel: t.channel, chatId: t.chatId, text }).catch((err: unknown) => emitEvent('warning', { message: `pairing_full notification not queued: ${(err as Error)?.message ?? err}`, component: 'pairing' }));
    }
  };
  const runner = new ChannelRunner({
    adapter,
    access: channelAccess(settings, channel, undefined, tellOperator),
    handle: withOperatorCommands({ operatorChats: settings.pulse.operatorChats ?? [], pulse: () => app.pulse() }, runtimeTurnHandler(app.runtime)),
    maxMessages: options.maxMessages,
    // Typing only for answers that take a moment: a request per quick reply halves throughput.
    typingDelayMs: 500,
    maxMessageBytes: settings.maxMessageBytes,
    drainMs: options.drainMs ?? (channel === 'telegram' ? settings.channels.telegram.drainSecs * 1000 : undefined),
  });
  return { runner, adapter, dispose: () => undefined };
}

/** SIGINT/SIGTERM → `channel_signal` and `onSignal`; a second signal also aborts turns. */
export function onStopSignals(onSignal: (count: number) => void): () => void {
  let count = 0;
  const handler = (sig: NodeJS.Signals): void => {
    count++;
    emitEvent('channel_signal', { signal: sig === 'SIGTERM' ? 'terminate' : 'interrupt', action: count === 1 ? 'graceful_stop' : 'abort_turns' });
    onSignal(count);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

export interface ForegroundOptions {
  maxMessages?: number;
  /** For tests: an app (runtime) built by the caller; closed by the caller. */
  app?: App;
  /** For tests: stop when this aborts (in addition to signals). */
  signal?: AbortSignal;
}

/** Runs one channel until SIGINT/SIGTERM or `--max-messages`; resolves after a graceful stop. */
export async function runChannelForeground(channel: ChannelName, options: ForegroundOptions = {}): Promise<{ reason: StopReason; turns: number }> {
  const app = options.app ?? (await createApp({ commitLog: true }));
  try {
    checkChannelSettings(app.settings, channel);
    const adapter = await createChannelAdapter(app.settings, channel);
    const hosted = hostChannel(app, adapter, { maxMessages: options.maxMessages });
    // Late answers for this channel's chats go out here too (serve is not running beside it).
    const outbox = outboxComponent(app, { deliver: (r) => hosted.runner.deliver(r.chat_id, r.text), accepts: (c) => c === channel });
    const stop = new AbortController();
    const offSignals = onStopSignals((count) => (count === 1 ? stop.abort() : hosted.runner.abortTurns()));
    const onExternal = (): void => stop.abort();
    options.signal?.addEventListener('abort', onExternal, { once: true });
    emitChannelStart(app.settings, channel, options.maxMessages);
    await outbox.start();
    try {
      return await hosted.runner.run(stop.signal);
    } finally {
      await outbox.stop();
      offSignals();
      options.signal?.removeEventListener('abort', onExternal);
      hosted.dispose();
    }
  } finally {
    if (!options.app) await app.close();
  }
}
