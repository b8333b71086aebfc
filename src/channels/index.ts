// Channels face: the adapter contract, the shared runner (access, pairing, ordering, replies),
// and the platform adapters. Adapters load their heavy libraries lazily.
export type { ChannelAdapter, ChannelMessage } from './types.js';
export { ChannelRunner, NotAcceptedError, FRIENDLY_FAILURE, type RunnerOptions, type RunnerStats, type StopReason, type TurnHandler, type TurnInput, type TurnResult } from './runner.js';
export { AccessControl, allowlisted, messageIds, type AccessDecision, type AccessOptions } from './access.js';
export { PairingStore, PairingError, newPairingCode, normaliseCode, type ApprovedSender, type PendingPairing, type PairingRequest } from './pairing-store.js';
export { splitMessage } from './chunking.js';
export { markdownToTelegramHtml, renderTelegramPieces, escapeHtml, TELEGRAM_LIMIT, type TelegramPiece } from './telegram-format.js';
export { parseUpdate, type ParsedUpdate } from './telegram-update.js';
export { TelegramJournal, type JournalState } from './telegram-offset.js';
export { TelegramAdapter, createTelegramAdapter, type TelegramDeps } from './telegram.js';
export { TelegramApiError } from './telegram-api.js';
export { createWhatsAppAdapter, WhatsAppSendError, type WhatsAppAdapter, type WhatsAppDeps } from './whatsapp.js';
