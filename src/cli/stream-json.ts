// Writes an async sequence as a pretty JSON array (the bytes JSON.stringify(array, null, 2)
// would print, plus a newline), element by element, waiting for the stream to drain.
import { once } from 'node:events';

export async function writeJsonArray<T>(out: NodeJS.WritableStream, items: AsyncIterable<T>, map: (item: T) => unknown): Promise<void> {
  let first = true;
  let buf = '';
  const push = async (text: string): Promise<void> => {
    buf += text;
    if (buf.length < 64 * 1024) return;
    const ok = out.write(buf);
    buf = '';
    if (!ok) await once(out, 'drain');
  };
  for await (const item of items) {
    const body = JSON.stringify(map(item), null, 2).replace(/\n/g, '\n  ');
    await push(`${first ? '[\n' : ',\n'}  ${body}`);
    first = false;
  }
  buf += first ? '[]\n' : '\n]\n';
  if (!out.write(buf)) await once(out, 'drain');
}
