// Channel settings: Telegram and the WhatsApp bridge, plus who may talk (DM policy).
import type { EnvReader } from './env-reader.js';

export type DmPolicy = 'pairing' | 'allowlist' | 'open';

export interface TelegramSettings {
  enabled: boolean;
  token: string | undefined;
  allowFrom: string[];
  dmPolicy: DmPolicy;
  pollTimeoutSecs: number;
  pollIntervalMs: number;
  requestTimeoutSecs: number;
  /** Bot API root override (self-hosted Bot API server, tests). Default https://api.telegram.org. */
  apiRoot: string | undefined;
  /** No successful getUpdates for this long (and at least the poll timeout + 1 s) → polling restarts. Default 120. */
  stallSecs: number;
  /** How long a stopping channel waits for in-flight turns before aborting them. Default 25. */
  drainSecs: number;
}

export interface WhatsAppSettings {
  enabled: boolean;
  bridgeUrl: string | undefined;
  bridgeToken: string | undefined;
  allowFrom: string[];
  dmPolicy: DmPolicy;
  reconnectMs: number;
  /** Bridge dialect: auto-detected from what the bridge sends, or forced. */
  dialect: 'auto' | 'original' | 'baileys';
}

export interface ChannelSettings {
  telegram: TelegramSettings;
  whatsapp: WhatsAppSettings;
}

function policy(r: EnvReader, name: string, allowFrom: string[]): DmPolicy {
  // Beyond the original: with an empty allowlist, unknown senders get a pairing code instead of
  // the bot answering anyone.
  return r.oneOf(name, ['pairing', 'allowlist', 'open'] as const, allowFrom.length === 0 ? 'pairing' : 'allowlist');
}

export function loadChannelSettings(r: EnvReader): ChannelSettings {
  const tgAllow = r.csv('RUSTY_PINCH_CHANNELS_TELEGRAM_ALLOW_FROM');
  const waAllow = r.csv('RUSTY_PINCH_CHANNELS_WHATSAPP_ALLOW_FROM');
  return {
    telegram: {
      enabled: r.bool('RUSTY_PINCH_CHANNELS_TELEGRAM_ENABLED', false),
      token: r.str('RUSTY_PINCH_CHANNELS_TELEGRAM_TOKEN'),
      allowFrom: tgAllow,
      dmPolicy: policy(r, 'RUSTY_PINCH_CHANNELS_TELEGRAM_DM_POLICY', tgAllow),
      pollTimeoutSecs: r.int('RUSTY_PINCH_CHANNELS_TELEGRAM_POLL_TIMEOUT_SECS', 30, { min: 0, max: 50 }),
      pollIntervalMs: r.int('RUSTY_PINCH_CHANNELS_TELEGRAM_POLL_INTERVAL_MS', 350, { min: 0, max: 600_000 }),
      requestTimeoutSecs: r.int('RUSTY_PINCH_CHANNELS_TELEGRAM_REQUEST_TIMEOUT_SECS', 60, { min: 1, max: 3600 }),
      apiRoot: r.str('RUSTY_PINCH_CHANNELS_TELEGRAM_API_ROOT')?.replace(/\/+$/, ''),
      stallSecs: r.int('RUSTY_PINCH_CHANNELS_TELEGRAM_STALL_SECS', 120, { min: 1, max: 3600 }),
      drainSecs: r.int('RUSTY_PINCH_CHANNELS_TELEGRAM_DRAIN_SECS', 25, { min: 0, max: 3600 }),
    },
    whatsapp: {
      enabled: r.bool('RUSTY_PINCH_CHANNELS_WHATSAPP_ENABLED', false),
      bridgeUrl: r.str('RUSTY_PINCH_CHANNELS_WHATSAPP_BRIDGE_URL'),
      bridgeToken: r.str('RUSTY_PINCH_CHANNELS_WHATSAPP_BRIDGE_TOKEN'),
      allowFrom: waAllow,
      dmPolicy: policy(r, 'RUSTY_PINCH_CHANNELS_WHATSAPP_DM_POLICY', waAllow),
      reconnectMs: r.int('RUSTY_PINCH_CHANNELS_WHATSAPP_RECONNECT_MS', 2000, { min: 100, max: 600_000 }),
      dialect: r.oneOf('RUSTY_PINCH_CHANNELS_WHATSAPP_DIALECT', ['auto', 'original', 'baileys'] as const, 'auto'),
    },
  };
}
