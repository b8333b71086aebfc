// Compatibility, read once: answers an older version left in `${workspace}/codex/outbox.jsonl`
// (already in their sessions, not yet sent) move into the one outbox. The file is removed only
// after every entry is in the new outbox. (Pulse notifications an older version left `pending`
// move when the scheduler starts: it hands them to the outbox through its notify callback.)
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { withFileLock, type Outbox } from '../store/index.js';
import { emitEvent, emitWarning } from '../observe/index.js';

export async function migrateLegacyOutbox(workspace: string, outbox: Outbox): Promise<number> {
  const path = join(workspace, 'codex', 'outbox.jsonl');
  if (!existsSync(path)) return 0;
  return withFileLock(path, async () => {
    if (!existsSync(path)) return 0;
    let moved = 0;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let v: Record<string, unknown>;
      try {
        v = JSON.parse(line) as Record<string, unknown>;
      } catch {
        v = {};
      }
      if (typeof v.session_id !== 'string' || typeof v.text !== 'string' || typeof v.channel !== 'string' || typeof v.chat_id !== 'string') {
        emitWarning('legacy codex outbox line is not an entry; skipped', { path });
        continue;
      }
      await outbox.enqueue({ kind: 'reply', channel: v.channel, chatId: v.chat_id, text: v.text, sessionId: v.session_id, requestId: typeof v.request_id === 'string' ? v.request_id : undefined });
      moved++;
    }
    rmSync(path, { force: true });
    emitEvent('outbox_migrated', { from: path, entries: moved });
    return moved;
  });
}
