// The channel contract: an adapter only translates between a platform and ChannelMessage /
// send(); the shared runner does allowlists, pairing, ordering and replies.

/** One inbound chat message, normalised. */
export interface ChannelMessage {
  channel: string;
  /** Where to answer (Telegram chat id, WhatsApp JID). */
  chatId: string;
  /** Who wrote it (Telegram user id, WhatsApp sender). */
  senderId: string;
  /** Other ids of the same sender that an allowlist may name (phone number and LID, username). */
  senderAliases?: string[];
  /** Platform message id, for dropping duplicates. */
  messageId?: string;
  text: string;
  isGroup?: boolean;
}

export interface ChannelAdapter {
  readonly name: string;
  /**
   * Connects and delivers messages to `onMessage` until `signal` aborts. `onMessage` resolves
   * once the message is handled (answered or refused); adapters acknowledge (persist offsets)
   * only after that.
   */
  run(onMessage: (msg: ChannelMessage) => Promise<void>, signal: AbortSignal): Promise<void>;
  /** Sends text to a chat. Throws a classified kernel AppError (code `remote` or `network`) on failure. */
  send(chatId: string, text: string): Promise<void>;
  /** Shows a typing indicator, when the platform has one. */
  typing?(chatId: string): Promise<void>;
  /** Connected and polling/receiving (for /readyz). */
  isReady(): boolean;
}
