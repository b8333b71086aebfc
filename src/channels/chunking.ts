// Splits a long reply into pieces a chat platform accepts: at paragraph, then line, then word
// boundaries, never inside a surrogate pair, and with Markdown code fences closed at the end of
// a piece and reopened at the start of the next. Lengths are JS string lengths (UTF-16 units).

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

interface FenceState {
  /** The opening line of the fence that is still open (reopened in the next piece). */
  open: string | undefined;
  marker: string | undefined;
}

/** Fence state after reading `text`, starting from `state`. */
function scanFences(text: string, state: FenceState): FenceState {
  let { open, marker } = state;
  for (const line of text.split('\n')) {
    const m = FENCE.exec(line);
    if (!m) continue;
    const run = m[1] as string;
    const rest = (m[2] ?? '').trim();
    if (marker === undefined) {
      open = line.trimStart();
      marker = run;
    } else if (run[0] === marker[0] && run.length >= marker.length && rest === '') {
      open = undefined;
      marker = undefined;
    }
  }
  return { open, marker };
}

/** Best cut position in `text` within `max` units: paragraph, line, word, else hard. */
function cutPoint(text: string, max: number): number {
  const window = text.slice(0, max + 1);
  const floorPara = Math.floor(max * 0.5);
  const floor = Math.floor(max * 0.3);
  const para = window.lastIndexOf('\n\n', max);
  if (para >= floorPara) return para;
  const line = window.lastIndexOf('\n', max);
  if (line >= floor) return line;
  const space = window.lastIndexOf(' ', max);
  if (space >= floor) return space;
  return hardCut(text, max);
}

/** `max`, or one less when that would split a surrogate pair. */
function hardCut(text: string, max: number): number {
  const code = text.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}

/**
 * Splits `text` into pieces of at most `limit` UTF-16 units. Blank input gives no pieces.
 * A code fence that spans a cut is closed in the first piece and reopened in the next.
 */
export function splitMessage(text: string, limit = 4000): string[] {
  if (!Number.isInteger(limit) || limit < 64) throw new RangeError(`chunk limit too small: ${limit}`);
  const closed: FenceState = { open: undefined, marker: undefined };
  const pieces: string[] = [];
  let rest = text.replace(/\r\n/g, '\n').trim();
  // Room for a closing fence line, in case the cut lands inside a code block.
  const max = limit - 20;
  while (rest.length > 0) {
    if (rest.length <= limit) {
      pieces.push(rest);
      break;
    }
    let piece = cutOnce(rest, cutPoint(rest, max), closed);
    // A cut so early that reopening the fence would not make progress: cut hard instead.
    if (piece.tail.length >= rest.length) piece = cutOnce(rest, hardCut(rest, max), closed);
    if (piece.head.trim() !== '') pieces.push(piece.head);
    rest = piece.tail;
  }
  return pieces;
}

function cutOnce(rest: string, cut: number, closed: FenceState): { head: string; tail: string } {
  let head = rest.slice(0, cut).replace(/\s+$/, '');
  // Drop the separator we cut at (blank lines or one space), keep code indentation.
  let tail = rest[cut] === ' ' ? rest.slice(cut + 1) : rest.slice(cut).replace(/^\n+/, '');
  const after = scanFences(head, closed);
  if (after.marker !== undefined) {
    head += '\n' + after.marker.slice(0, 19);
    // Reopen with the same fence (info string kept when short) so the code stays code.
    const reopen = after.open && after.open.length <= 64 ? after.open : after.marker.slice(0, 19);
    tail = reopen + '\n' + tail;
  }
  return { head, tail };
}
