// The history sent to the model is bounded by size as well as by count: the newest earlier
// messages that fit RUSTY_PINCH_HISTORY_MAX_BYTES. One huge old message must not ride along with
// every later request (it would cost time and money, and can overflow the model's context).
import type { SessionRecord } from '../store/index.js';

const MARK = '\n[… earlier part cut: message too long to resend]';

/**
 * The newest records whose contents fit `maxBytes` (UTF-8; 0 = no limit), oldest first. When
 * not even the newest one fits, its end is kept, cut to the budget with a marker, so the model
 * still sees what was said last.
 */
export function boundHistoryBytes(records: SessionRecord[], maxBytes: number): SessionRecord[] {
  if (maxBytes <= 0) return records;
  // UTF-8 takes at most 3 bytes per UTF-16 unit: when even that fits, nothing is measured.
  let units = 0;
  for (const r of records) units += r.content.length;
  if (units * 3 <= maxBytes) return records;
  let used = 0;
  let i = records.length;
  while (i > 0) {
    const size = Buffer.byteLength((records[i - 1] as SessionRecord).content, 'utf8');
    if (used + size > maxBytes) break;
    used += size;
    i--;
  }
  if (i === records.length && records.length > 0) {
    const last = records[records.length - 1] as SessionRecord;
    const room = maxBytes - Buffer.byteLength(MARK, 'utf8');
    if (room <= 0) return [];
    return [{ ...last, content: cutToBytes(last.content, room) + MARK }];
  }
  return records.slice(i);
}

/** The first `max` bytes of `s`, never splitting a character. */
function cutToBytes(s: string, max: number): string {
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= max) return s;
  let end = max;
  while (end > 0 && ((buf[end] as number) & 0xc0) === 0x80) end--; // back off a continuation byte
  return buf.subarray(0, end).toString('utf8');
}
