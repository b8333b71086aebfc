// Reads a model's answer: the code (the first ```js block, else the first fenced block, else the
// whole text) and the sample arguments (a ```json {"samples": [...]} block, else "" and the
// arguments the goal implies: infer-args.ts).
import { inferSampleArgs } from './infer-args.js';

export interface Candidate {
  code: string;
  samples: string[];
  /** Where the samples came from: the model's block, the goal (beside ""), or "" alone. */
  samplesFrom: 'model' | 'goal' | 'default';
}

const FENCE = /```([A-Za-z0-9_+-]*)[^\n]*\n([\s\S]*?)```/g;
const MAX_SAMPLES = 4;
const MAX_SAMPLE_CHARS = 512;

export function parseCandidate(reply: string, goal = ''): Candidate {
  const blocks = [...reply.matchAll(FENCE)].map((m) => ({ lang: (m[1] ?? '').toLowerCase(), body: m[2] ?? '' }));
  const isJs = (l: string) => l === 'js' || l === 'javascript' || l === 'mjs';
  const code = (blocks.find((b) => isJs(b.lang)) ?? blocks.find((b) => b.lang !== 'json') ?? { body: blocks.length ? '' : reply }).body.trim();
  const samples = samplesFrom(blocks.filter((b) => b.lang === 'json').map((b) => b.body));
  if (samples) return { code, samples, samplesFrom: 'model' };
  const implied = inferSampleArgs(goal);
  return { code, samples: ['', ...implied], samplesFrom: implied.length ? 'goal' : 'default' };
}

function samplesFrom(jsonBlocks: string[]): string[] | null {
  for (const body of jsonBlocks) {
    let v: unknown;
    try {
      v = JSON.parse(body);
    } catch {
      continue;
    }
    const list = Array.isArray(v) ? v : v && typeof v === 'object' ? (v as { samples?: unknown }).samples : undefined;
    if (!Array.isArray(list)) continue;
    const out = list.filter((s): s is string => typeof s === 'string' && s.length <= MAX_SAMPLE_CHARS && !/[\u0000-\u0008\u000b-\u001f]/.test(s)).slice(0, MAX_SAMPLES);
    if (out.length) return out;
  }
  return null;
}
