// Reads a skill's leading comment block: the description shown by `skills list` and markers
// such as `@risky` (the model needs approval to run it).
import { closeSync, openSync, readSync } from 'node:fs';

export interface SkillMeta {
  description: string | null;
  risky: boolean;
}

const MAX_DESCRIPTION_CHARS = 300;
const HEADER_BYTES = 4096;

/** Parses the comment lines (`//` or one `/* … *\/` block) before the first code line. */
export function parseSkillMeta(source: string): SkillMeta {
  const lines = leadingComment(source);
  const markers = new Set<string>();
  const paragraph: string[] = [];
  let ended = false;
  for (const line of lines) {
    const words = line.split(/\s+/).filter(Boolean);
    for (const w of words) if (/^@[a-z][a-z0-9_-]*$/i.test(w)) markers.add(w.slice(1).toLowerCase());
    if (line === '') {
      if (paragraph.length) ended = true;
      continue;
    }
    if (ended || line.startsWith('@') || /^[A-Z][A-Z0-9_]*=\S*$/.test(line)) continue;
    paragraph.push(line);
  }
  let description: string | null = paragraph.join(' ').replace(/\s+/g, ' ').trim() || null;
  if (description && description.length > MAX_DESCRIPTION_CHARS) description = description.slice(0, MAX_DESCRIPTION_CHARS - 3) + '...';
  return { description, risky: markers.has('risky') };
}

function leadingComment(source: string): string[] {
  const text = source.replace(/^\uFEFF/, '').replace(/^#![^\n]*\n/, '');
  const out: string[] = [];
  const lines = text.split(/\r?\n/);
  let i = 0;
  while (i < lines.length) {
    const t = lines[i]!.trim();
    if (t.startsWith('//')) {
      out.push(t.slice(2).trim());
      i++;
    } else if (t.startsWith('/*')) {
      let body = t.slice(2);
      while (!body.includes('*/') && i + 1 < lines.length) {
        out.push(clean(body));
        body = lines[++i]!.trim();
      }
      out.push(clean(body.split('*/')[0] ?? ''));
      i++;
    } else if (t === '') {
      if (out.length) out.push('');
      i++;
    } else break;
  }
  return out;
}

function clean(line: string): string {
  return line.trim().replace(/^\*+\s?/, '').trim();
}

/** Reads only the head of a skill file (for the per-call risk check). */
export function readSkillHeader(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(HEADER_BYTES);
    const n = readSync(fd, buf, 0, HEADER_BYTES, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
