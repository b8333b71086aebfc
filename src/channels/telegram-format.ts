// Markdown → Telegram HTML (the subset Telegram accepts: b, i, s, code, pre, a, blockquote),
// escaping everything else, plus the splitter that keeps each rendered piece within the limit.
// When Telegram still rejects the markup, the adapter re-sends the raw piece as plain text.
import { splitMessage } from './chunking.js';

/** Telegram's message limit, in UTF-16 units. */
export const TELEGRAM_LIMIT = 4096;
/** Raw Markdown pieces are cut a little below the limit; HTML markup may add a few units. */
const RAW_LIMIT = 4000;

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)[^\n]*$/;

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttr(text: string): string {
  return escapeHtml(text).replace(/"/g, '&quot;');
}

/** Inline Markdown of one line (already outside code blocks). */
function inline(line: string): string {
  const codes: string[] = [];
  // Inline code first: its content is literal.
  let s = line.replace(/\u0000/g, '').replace(/`([^`\n]+)`/g, (_m, code: string) => {
    codes.push(`<code>${escapeHtml(code)}</code>`);
    return `\u0000${codes.length - 1}\u0000`;
  });
  const links: string[] = [];
  s = s.replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g, (_m, text: string, url: string) => {
    links.push(`<a href="${escapeAttr(url)}">${formatText(escapeHtml(text))}</a>`);
    return `\u0001${links.length - 1}\u0001`;
  });
  s = formatText(escapeHtml(s));
  s = s.replace(/\u0001(\d+)\u0001/g, (_m, i: string) => links[Number(i)] ?? '');
  return s.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => codes[Number(i)] ?? '');
}

/** Bold, italic and strikethrough on escaped text. */
function formatText(s: string): string {
  return s
    .replace(/\*\*(?=\S)([^*\n]*?\S)\*\*/g, '<b>$1</b>')
    .replace(/(^|[^\w])__(?=\S)([^_\n]*?\S)__(?![\w])/g, '$1<b>$2</b>')
    .replace(/~~(?=\S)([^~\n]*?\S)~~/g, '<s>$1</s>')
    .replace(/(^|[^\w*])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?![\w*])/g, '$1<i>$2</i>')
    .replace(/(^|[^\w])_(?=[^\s_])([^_\n]*?[^\s_])_(?![\w])/g, '$1<i>$2</i>');
}

/** One line without any character Markdown or HTML escaping acts on (most short replies). */
const PLAIN = /^(?![ \t]*[#>+*-])[^\n\r\u0000`*_~<>&]*$/;

/** Renders one Markdown text as Telegram HTML. */
export function markdownToTelegramHtml(md: string): string {
  // Nothing to convert or escape: the text is its own HTML (the same result, without the passes).
  if (PLAIN.test(md) && !md.includes('](')) return md;
  const out: string[] = [];
  const lines = md.replace(/\r\n/g, '\n').split('\n');
  let quote: string[] = [];
  const flushQuote = (): void => {
    if (quote.length) out.push(`<blockquote>${quote.join('\n')}</blockquote>`);
    quote = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const fence = FENCE.exec(line);
    if (fence) {
      flushQuote();
      const marker = fence[1] as string;
      const lang = fence[2] ?? '';
      const body: string[] = [];
      i++;
      while (i < lines.length) {
        const l = lines[i] as string;
        const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(l);
        if (close && (close[1] as string)[0] === marker[0] && (close[1] as string).length >= marker.length) break;
        body.push(l);
        i++;
      }
      const code = escapeHtml(body.join('\n'));
      out.push(lang ? `<pre><code class="language-${escapeAttr(lang)}">${code}</code></pre>` : `<pre>${code}</pre>`);
      continue;
    }
    const q = /^ {0,3}>\s?(.*)$/.exec(line);
    if (q) {
      quote.push(inline(q[1] ?? ''));
      continue;
    }
    flushQuote();
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      out.push(`<b>${inline(heading[1] ?? '')}</b>`);
      continue;
    }
    const bullet = /^(\s*)[-*+]\s+(.*)$/.exec(line);
    if (bullet) {
      out.push(`${bullet[1] ?? ''}• ${inline(bullet[2] ?? '')}`);
      continue;
    }
    out.push(inline(line));
  }
  flushQuote();
  return out.join('\n');
}

export interface TelegramPiece {
  /** The Markdown piece as the model wrote it (sent as plain text on fallback). */
  raw: string;
  html: string;
}

/**
 * Splits a reply into pieces whose HTML and raw text both fit Telegram's limit. Empty replies
 * become one `(empty response)` piece, as in the original.
 */
export function renderTelegramPieces(text: string, limit = TELEGRAM_LIMIT): TelegramPiece[] {
  const rawLimit = Math.min(RAW_LIMIT, limit);
  const raws = splitMessage(text, rawLimit);
  if (raws.length === 0) return [{ raw: '(empty response)', html: '(empty response)' }];
  const out: TelegramPiece[] = [];
  for (const raw of raws) out.push(...fit(raw, limit, rawLimit));
  return out;
}

/** Re-splits a raw piece until its HTML fits (markup and escapes can make HTML longer). */
function fit(raw: string, limit: number, rawLimit: number, depth = 0): TelegramPiece[] {
  const html = markdownToTelegramHtml(raw);
  if (html.length <= limit || depth > 6) {
    // Deep recursion only happens for pathological input; fall back to escaped plain text.
    return [{ raw, html: html.length <= limit ? html : escapeHtml(raw).slice(0, limit) }];
  }
  const smaller = Math.max(64, Math.floor((raw.length * limit) / html.length * 0.9));
  const next = Math.min(smaller, rawLimit - 1);
  return splitMessage(raw, next).flatMap((p) => fit(p, limit, next, depth + 1));
}
