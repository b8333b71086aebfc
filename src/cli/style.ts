// Colour for humans, never for machines: on only when the stream is a terminal, NO_COLOR is
// unset (https://no-color.org) and TERM is not `dumb`; FORCE_COLOR (not `0`/`false`) turns it
// on anywhere. Plain SGR codes: no dependency, nothing loaded at start-up.
type Stream = { isTTY?: boolean };

export function colourEnabled(stream: Stream, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return !['0', 'false'].includes(force.trim().toLowerCase());
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

const CODES = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;
export type StyleName = keyof typeof CODES;

export type Paint = (style: StyleName, text: string) => string;

/** A painter for `stream`: styles text when colour is on, returns it unchanged when off. */
export function painter(stream: Stream, env: NodeJS.ProcessEnv = process.env): Paint {
  if (!colourEnabled(stream, env)) return (_style, text) => text;
  return (style, text) => `\x1b[${CODES[style][0]}m${text}\x1b[${CODES[style][1]}m`;
}

/** Colour for a status word (`ok`, `error`, `warning`, `pending`…). */
export function statusStyle(word: string): StyleName | undefined {
  const w = word.toLowerCase();
  if (/^(ok|healthy|executed|approved|achieved|enabled|true|found)$/.test(w)) return 'green';
  if (/^(error|failed|unhealthy|rejected|expired|false)$/.test(w)) return 'red';
  if (/^(warning|warn|pending|queued|disabled|noop|skipped)$/.test(w)) return 'yellow';
  return undefined;
}
