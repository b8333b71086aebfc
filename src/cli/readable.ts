// The readable view of a command's JSON result, for a human at a terminal: `key: value` lines,
// lists of records as aligned tables, nesting by indentation. Scripts get the JSON (see
// output.ts), so this view may be reshaped freely.
import { statusStyle, type Paint } from './style.js';

const plain: Paint = (_s, t) => t;
const MAX_CELL = 48;
const MAX_COLUMNS = 8;

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown) => v === null || typeof v !== 'object';

function clip(s: string, max: number): string {
  const chars = [...s];
  return chars.length > max ? chars.slice(0, max - 1).join('') + '…' : s;
}

/** One value on one line: scalars as text (null → `-`), anything else as compact JSON. */
function cell(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string') return v.replace(/[\u0000-\u001f\u007f]/g, ' ');
  if (isScalar(v)) return String(v);
  if (Array.isArray(v) && v.length === 0) return '-';
  if (isRecord(v) && Object.keys(v).length === 1 && isScalar(Object.values(v)[0]) === false) return Object.keys(v)[0]!;
  return JSON.stringify(v);
}

function paintValue(paint: Paint, text: string): string {
  const style = statusStyle(text);
  return style ? paint(style, text) : text;
}

function table(rows: Rec[], indent: string, paint: Paint): string[] {
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const cells = rows.map((r) => cols.map((c) => clip(cell(r[c]), MAX_CELL)));
  const width = cols.map((c, i) => Math.max([...c].length, ...cells.map((r) => [...r[i]!].length)));
  const pad = (s: string, i: number) => s + ' '.repeat(width[i]! - [...s].length);
  const head = indent + cols.map((c, i) => paint('bold', pad(c.toUpperCase(), i))).join('  ');
  const body = cells.map((r) => indent + r.map((s, i) => (i === r.length - 1 ? paintValue(paint, s) : paintValue(paint, s) + ' '.repeat(width[i]! - [...s].length))).join('  ').trimEnd());
  return [head.trimEnd(), ...body];
}

function lines(value: unknown, indent: string, paint: Paint): string[] {
  if (isScalar(value)) return [indent + paintValue(paint, cell(value))];
  if (Array.isArray(value)) {
    if (value.length === 0) return [indent + paint('dim', '(none)')];
    if (value.every(isScalar)) return value.map((v) => `${indent}- ${cell(v)}`);
    const flat = value.every((v) => isRecord(v));
    const colCount = new Set(value.flatMap((v) => (isRecord(v) ? Object.keys(v) : []))).size;
    if (flat && colCount <= MAX_COLUMNS) return table(value as Rec[], indent, paint);
    return value.flatMap((v, i) => {
      const block = lines(v, indent + '  ', paint);
      block[0] = indent + '- ' + block[0]!.slice(indent.length + 2);
      return i < value.length - 1 && !isScalar(v) ? [...block, ''] : block;
    });
  }
  const out: string[] = [];
  for (const [k, v] of Object.entries(value as Rec)) {
    if (v === undefined) continue;
    const key = paint('bold', k + ':');
    if (isScalar(v) || (Array.isArray(v) && v.length > 0 && v.every(isScalar) && v.length <= 8)) {
      out.push(`${indent}${key} ${Array.isArray(v) ? v.map(cell).join(', ') : paintValue(paint, cell(v))}`);
    } else if (Array.isArray(v) && v.length === 0) {
      out.push(`${indent}${key} ${paint('dim', '(none)')}`);
    } else {
      out.push(indent + key, ...lines(v, indent + '  ', paint));
    }
  }
  return out.length ? out : [indent + paint('dim', '(empty)')];
}

/** The readable view of any JSON value. */
export function renderReadable(value: unknown, paint: Paint = plain): string {
  return lines(value, '', paint).join('\n');
}
