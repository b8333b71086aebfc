// Splitting long replies and rendering Telegram HTML: limits in UTF-16 units, paragraph/line
// boundaries, code fences closed and reopened, escaping, and garbage input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, markdownToTelegramHtml, renderTelegramPieces, splitMessage, TELEGRAM_LIMIT } from '../src/channels/index.js';

function fencesBalanced(piece: string): boolean {
  return (piece.match(/^ {0,3}```/gm) ?? []).length % 2 === 0;
}

test('short text is one piece; blank text is none', () => {
  assert.deepEqual(splitMessage('hello'), ['hello']);
  assert.deepEqual(splitMessage('  \n\n '), []);
});

test('splits on paragraph boundaries within the limit', () => {
  const para = (c: string) => c.repeat(300);
  const text = [para('a'), para('b'), para('c'), para('d')].join('\n\n');
  const pieces = splitMessage(text, 700);
  assert.ok(pieces.length >= 2);
  for (const p of pieces) assert.ok(p.length <= 700, `piece of ${p.length}`);
  // No paragraph is cut in two.
  for (const p of pieces) for (const line of p.split('\n')) assert.ok(line === '' || /^(a+|b+|c+|d+)$/.test(line) && line.length === 300, line.slice(0, 20));
  assert.equal(pieces.join('\n\n'), text);
});

test('a code fence split across pieces is closed and reopened with its language', () => {
  const code = Array.from({ length: 200 }, (_, i) => `  let x${i} = ${i};`).join('\n');
  const text = `Intro line\n\n\`\`\`ts\n${code}\n\`\`\`\n\nOutro`;
  const pieces = splitMessage(text, 1000);
  assert.ok(pieces.length > 3);
  for (const p of pieces) {
    assert.ok(p.length <= 1000);
    assert.ok(fencesBalanced(p), `unbalanced piece: ${p.slice(0, 60)}…${p.slice(-30)}`);
  }
  assert.ok(pieces.slice(1, -1).every((p) => p.startsWith('```ts\n')), 'middle pieces reopen the ts fence');
  // Indentation inside code survives the cut.
  assert.ok(pieces[1]!.split('\n')[1]!.startsWith('  let x'));
});

test('astral characters never split a surrogate pair and the limit is in UTF-16 units', () => {
  const text = '😀'.repeat(5000); // 10000 UTF-16 units, no spaces or newlines
  const pieces = splitMessage(text, 4000);
  for (const p of pieces) {
    assert.ok(p.length <= 4000);
    assert.ok(!/[\uD800-\uDBFF]$/.test(p) && !/^[\uDC00-\uDFFF]/.test(p), 'no lone surrogate at a cut');
  }
  assert.equal(pieces.join(''), text);
});

test('garbage: a tiny limit is refused, odd input does not loop', () => {
  assert.throws(() => splitMessage('x', 10), RangeError);
  const weird = '```' + 'x'.repeat(500) + '\n' + 'y '.repeat(2000);
  const pieces = splitMessage(weird, 200);
  assert.ok(pieces.every((p) => p.length <= 200));
  assert.ok(splitMessage('\u0000\r\n\r\n```\n', 100).length <= 1);
});

test('markdown renders as Telegram HTML with escaping', () => {
  assert.equal(escapeHtml('<b>&'), '&lt;b&gt;&amp;');
  const html = markdownToTelegramHtml('# Title\n**bold** and _it_ and `a<b>` and [x](https://e.com/?a=1&b="2")\n- item\n> quote\n```js\nif (a < b && c) {}\n```');
  assert.match(html, /^<b>Title<\/b>/);
  assert.match(html, /<b>bold<\/b> and <i>it<\/i> and <code>a&lt;b&gt;<\/code>/);
  assert.match(html, /<a href="https:\/\/e\.com\/\?a=1&amp;b=&quot;2&quot;">x<\/a>/);
  assert.match(html, /• item/);
  assert.match(html, /<blockquote>quote<\/blockquote>/);
  assert.match(html, /<pre><code class="language-js">if \(a &lt; b &amp;&amp; c\) \{\}<\/code><\/pre>/);
  assert.equal(markdownToTelegramHtml('snake_case_name 2*3*4'), 'snake_case_name 2*3*4');
  assert.equal(markdownToTelegramHtml('<script>alert(1)</script>'), '&lt;script&gt;alert(1)&lt;/script&gt;');
});

test('rendered pieces fit 4096 even when escaping inflates the HTML', () => {
  const text = '<&>'.repeat(3000); // escapes to ~4.5x the raw length
  const pieces = renderTelegramPieces(text);
  assert.ok(pieces.length > 1);
  for (const p of pieces) {
    assert.ok(p.html.length <= TELEGRAM_LIMIT, `html ${p.html.length}`);
    assert.ok(p.raw.length <= TELEGRAM_LIMIT);
  }
  assert.equal(pieces.map((p) => p.raw).join(''), text);
  assert.deepEqual(renderTelegramPieces('   '), [{ raw: '(empty response)', html: '(empty response)' }]);
});

test('a line with nothing to convert is its own HTML, as the full conversion renders it', () => {
  // The full conversion is forced by a second line; lines are converted one by one.
  const alphabet = ['a', ' ', '[', ']', '(', ')', '-', '+', '#', '.', "'", ':', '=', '1', 'é', '😀', '"', '/'];
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let i = 0; i < 3000; i++) {
    let s = '';
    for (let j = rnd(24); j > 0; j--) s += alphabet[rnd(alphabet.length)];
    assert.equal(markdownToTelegramHtml(s), markdownToTelegramHtml(`${s}\nx`).slice(0, -2), JSON.stringify(s));
  }
  assert.equal(markdownToTelegramHtml("[Rusty Pinch:local:local] Received 'hi'. history=2 messages."), "[Rusty Pinch:local:local] Received 'hi'. history=2 messages.");
  assert.equal(markdownToTelegramHtml('- item'), '• item');
  assert.equal(markdownToTelegramHtml('see [x](https://e.com)'), 'see <a href="https://e.com">x</a>');
});
