// Pairing state shared by the running channels and the `pairing` CLI: one-time codes handed to
// unknown senders and the senders the operator approved. One JSON file under the data dir,
// changed only under a cross-process lock; a running channel re-reads it when it changes.
import { randomInt } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { JsonStateFile, SchemaError, schema as S, type Check, type StateCodec } from '../store/index.js';
import { AppError } from '../kernel/index.js';

export interface PendingPairing {
  channel: string;
  code: string;
  sender: string;
  chat_id: string;
  aliases: string[];
  created_at: string;
  expires_at: string;
  /** Last time the sender was told the code (reminders are rate-limited). */
  notified_at: string;
}

export interface ApprovedSender {
  channel: string;
  sender: string;
  aliases: string[];
  approved_at: string;
  code: string;
}

/** When a code was handed out (for the per-sender limit); kept for one limit window. */
export interface IssuedCode {
  channel: string;
  sender: string;
  at: string;
}

interface PairingFile {
  version: 1;
  pending: PendingPairing[];
  approved: ApprovedSender[];
  /** Optional (older files lack it). */
  issued?: IssuedCode[];
}

export type PairingRequest =
  | { status: 'issued'; code: string; expiresAt: string }
  | { status: 'pending'; code: string; expiresAt: string; remind: boolean }
  | { status: 'full' }
  /** This sender was handed `maxPerSender` codes within the limit window already. */
  | { status: 'limited' };

/** A pairing command the operator gave cannot be carried out (unknown code, unknown sender). */
export class PairingError extends AppError {
  constructor(message: string) {
    super('pairing', message, { hint: 'run `rusty-pinch pairing list` to see pending codes and approved senders' });
  }
}

export interface PairingOptions {
  /** How long a code stays valid. Default 1 h. */
  ttlMs?: number;
  /** Unexpired codes per channel before new strangers are turned away. Default 16. */
  maxPending?: number;
  /** Least time between reminders of a pending code to one sender. Default 10 min. */
  remindMs?: number;
  /** Codes one sender may be handed per `senderWindowMs` (a new one after each expiry). Default 3. */
  maxPerSender?: number;
  /** Window of the per-sender limit. Default 24 h. */
  senderWindowMs?: number;
  now?: () => number;
}

// No 0/O or 1/I: codes are read aloud and typed by hand.
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A fresh code like `K7QD-M2XP` (40 random bits from the OS CSPRNG). */
export function newPairingCode(): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return `${s.slice(0, 4)}-${s.slice(4)}`;
}

/** Upper-cases and drops separators, so `k7qd m2xp` matches `K7QD-M2XP`. */
export function normaliseCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

const decodePending: Check<PendingPairing> = S.object({
  channel: S.string,
  code: S.string,
  sender: S.string,
  chat_id: S.string,
  aliases: S.withDefault(S.array(S.string), () => []),
  created_at: S.withDefault(S.string, () => ''),
  expires_at: S.string,
  notified_at: S.withDefault(S.string, () => ''),
});

const decodeApproved: Check<ApprovedSender> = S.object({
  channel: S.string,
  sender: S.string,
  aliases: S.withDefault(S.array(S.string), () => []),
  approved_at: S.withDefault(S.string, () => ''),
  code: S.withDefault(S.string, () => ''),
});

const decodeIssued: Check<IssuedCode> = S.object({ channel: S.string, sender: S.string, at: S.string });

/** Entries that fail are dropped and reported (the file is backed up before it is rewritten). */
function decodePairing(value: unknown, issues: string[]): PairingFile {
  if (!S.isObject(value) || value.version !== 1) throw new SchemaError('', 'not a pairing file (version 1)');
  return { version: 1, pending: S.salvageArray(value.pending, 'pending', decodePending, issues), approved: S.salvageArray(value.approved, 'approved', decodeApproved, issues), ...(value.issued === undefined ? {} : { issued: S.salvageArray(value.issued, 'issued', decodeIssued, issues) }) };
}

const pairingCodec: StateCodec<PairingFile> = { what: 'pairing', empty: () => ({ version: 1, pending: [], approved: [] }), decode: decodePairing };

export class PairingStore {
  readonly path: string;
  private readonly ttlMs: number;
  private readonly maxPending: number;
  private readonly remindMs: number;
  private readonly maxPerSender: number;
  private readonly senderWindowMs: number;
  private readonly now: () => number;
  private cache: { key: string; file: PairingFile } | undefined;
  private readonly file: JsonStateFile<PairingFile>;

  constructor(dataDir: string, options: PairingOptions = {}) {
    this.path = join(dataDir, 'channels', 'pairing.json');
    this.file = new JsonStateFile(this.path, pairingCodec, { mode: 0o600 });
    this.ttlMs = options.ttlMs ?? 60 * 60_000;
    this.maxPending = options.maxPending ?? 16;
    this.remindMs = options.remindMs ?? 10 * 60_000;
    this.maxPerSender = options.maxPerSender ?? 3;
    this.senderWindowMs = options.senderWindowMs ?? 24 * 60 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * True when one of the sender's immutable `ids` (user id, WhatsApp JID/LID) was approved for
   * `channel`. Usernames (`@name`) never admit: Telegram releases them and anyone may claim one
   * later. Re-reads the file when it changed.
   */
  isApproved(channel: string, ids: string[]): boolean {
    const immutable = ids.filter((x) => x !== '' && !x.startsWith('@'));
    const file = this.current();
    return file.approved.some((a) => a.channel === channel && (immutable.includes(a.sender) || a.aliases.some((x) => !x.startsWith('@') && immutable.includes(x))));
  }

  /** Finds or creates the pending code of an unknown sender. */
  request(channel: string, sender: string, chatId: string, aliases: string[]): Promise<PairingRequest> {
    return this.update<PairingRequest>((file) => {
      const now = this.now();
      const mine = file.pending.find((p) => p.channel === channel && p.sender === sender);
      if (mine) {
        const remind = !(now - Date.parse(mine.notified_at) < this.remindMs);
        if (remind) mine.notified_at = new Date(now).toISOString();
        return { result: { status: 'pending', code: mine.code, expiresAt: mine.expires_at, remind }, changed: remind };
      }
      const issued = (file.issued ?? []).filter((i) => now - Date.parse(i.at) < this.senderWindowMs);
      const pruned = issued.length !== (file.issued ?? []).length;
      file.issued = issued;
      if (issued.filter((i) => i.channel === channel && i.sender === sender).length >= this.maxPerSender) return { result: { status: 'limited' }, changed: pruned };
      if (file.pending.filter((p) => p.channel === channel).length >= this.maxPending) return { result: { status: 'full' }, changed: pruned };
      const entry: PendingPairing = {
        channel,
        code: newPairingCode(),
        sender,
        chat_id: chatId,
        aliases,
        created_at: new Date(now).toISOString(),
        expires_at: new Date(now + this.ttlMs).toISOString(),
        notified_at: new Date(now).toISOString(),
      };
      file.pending.push(entry);
      issued.push({ channel, sender, at: entry.created_at });
      return { result: { status: 'issued', code: entry.code, expiresAt: entry.expires_at }, changed: true };
    });
  }

  /** Unexpired pending codes and approved senders. */
  list(): { pending: PendingPairing[]; approved: ApprovedSender[] } {
    const file = this.current();
    const now = this.now();
    return { pending: file.pending.filter((p) => Date.parse(p.expires_at) > now), approved: file.approved };
  }

  /** Admits the sender holding `code`. Throws PairingError for unknown or expired codes. */
  approve(channel: string, code: string): Promise<ApprovedSender> {
    const wanted = normaliseCode(code);
    return this.update((file, expired) => {
      const entry = file.pending.find((p) => p.channel === channel && normaliseCode(p.code) === wanted);
      if (!entry) {
        const old = expired.some((p) => p.channel === channel && normaliseCode(p.code) === wanted);
        throw new PairingError(old ? `pairing code ${code} for ${channel} has expired; the sender gets a new one by writing again` : `no pending pairing code ${code} for ${channel}`);
      }
      const approved: ApprovedSender = { channel, sender: entry.sender, aliases: entry.aliases, approved_at: new Date(this.now()).toISOString(), code: entry.code };
      file.pending = file.pending.filter((p) => !(p.channel === channel && p.sender === entry.sender));
      file.approved = file.approved.filter((a) => !(a.channel === channel && a.sender === entry.sender));
      file.approved.push(approved);
      return { result: approved, changed: true };
    });
  }

  /** Removes an approved sender (by id or alias) and any pending code of theirs. */
  revoke(channel: string, sender: string): Promise<{ channel: string; sender: string; revoked: number }> {
    return this.update((file) => {
      const hit = (a: { channel: string; sender: string; aliases: string[] }): boolean => a.channel === channel && (a.sender === sender || a.aliases.includes(sender));
      const before = file.approved.length + file.pending.length;
      file.approved = file.approved.filter((a) => !hit(a));
      file.pending = file.pending.filter((p) => !hit(p));
      const revoked = before - file.approved.length - file.pending.length;
      if (revoked === 0) throw new PairingError(`${sender} is neither approved nor pending on ${channel}`);
      return { result: { channel, sender, revoked }, changed: true };
    });
  }

  /** Read-modify-write under the lock; expired codes are pruned on every write. */
  private async update<T>(fn: (file: PairingFile, expired: PendingPairing[]) => { result: T; changed: boolean }): Promise<T> {
    return this.file.update(
      (file) => {
        const now = this.now();
        const expired = file.pending.filter((p) => !(Date.parse(p.expires_at) > now));
        file.pending = file.pending.filter((p) => Date.parse(p.expires_at) > now);
        const { result, changed } = fn(file, expired);
        return { result, changed: changed || expired.length > 0 };
      },
      { afterWrite: () => (this.cache = undefined) },
    );
  }

  private load(): PairingFile {
    return this.file.read();
  }

  /** The file as it is now; re-read only when its identity, size or mtime changed. */
  private current(): PairingFile {
    let key = 'missing';
    try {
      const st = statSync(this.path);
      key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      // missing: empty state
    }
    if (this.cache?.key === key) return this.cache.file;
    const file = key === 'missing' ? { version: 1 as const, pending: [], approved: [] } : this.load();
    this.cache = { key, file };
    return file;
  }
}
