// Address classification for the one outbound HTTP policy (skills, Pulse checks and actions): every address that is not
// plainly public unicast (loopback, private, link-local, CGNAT, unspecified, multicast,
// broadcast, documentation/reserved, ULA, and IPv4 embedded in IPv6) is refused.
import { isIPv4, isIPv6 } from 'node:net';

type V4Range = [base: number, bits: number, label: string];

const V4_BLOCKED: V4Range[] = [
  [v4(0, 0, 0, 0), 8, 'unspecified/this-network'],
  [v4(10, 0, 0, 0), 8, 'private'],
  [v4(100, 64, 0, 0), 10, 'carrier-grade NAT'],
  [v4(127, 0, 0, 0), 8, 'loopback'],
  [v4(169, 254, 0, 0), 16, 'link-local'],
  [v4(172, 16, 0, 0), 12, 'private'],
  [v4(192, 0, 0, 0), 24, 'IETF protocol assignments'],
  [v4(192, 0, 2, 0), 24, 'documentation'],
  [v4(192, 88, 99, 0), 24, '6to4 relay'],
  [v4(192, 168, 0, 0), 16, 'private'],
  [v4(198, 18, 0, 0), 15, 'benchmarking'],
  [v4(198, 51, 100, 0), 24, 'documentation'],
  [v4(203, 0, 113, 0), 24, 'documentation'],
  [v4(224, 0, 0, 0), 4, 'multicast'],
  [v4(240, 0, 0, 0), 4, 'reserved/broadcast'],
];

function v4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
}

function parseV4(text: string): number | undefined {
  if (!isIPv4(text)) return undefined;
  const p = text.split('.').map(Number);
  return v4(p[0]!, p[1]!, p[2]!, p[3]!);
}

function classifyV4(n: number): string | undefined {
  for (const [base, bits, label] of V4_BLOCKED) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    if (((n & mask) >>> 0) === base) return label;
  }
  return undefined;
}

/** Eight 16-bit groups, or undefined when not IPv6 (zone ids are refused by the caller). */
export function parseV6(text: string): number[] | undefined {
  const t = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!isIPv6(t) || t.includes('%')) return undefined;
  let full = t;
  const lastColon = t.lastIndexOf(':');
  const tail = t.slice(lastColon + 1);
  if (tail.includes('.')) {
    const n = parseV4(tail);
    if (n === undefined) return undefined;
    full = `${t.slice(0, lastColon + 1)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  let groups: number[];
  if (full.includes('::')) {
    const [l, r] = full.split('::') as [string, string];
    const left = l ? l.split(':') : [];
    const right = r ? r.split(':') : [];
    groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right].map((x) => parseInt(x, 16));
  } else {
    groups = full.split(':').map((x) => parseInt(x, 16));
  }
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

function classifyV6(g: number[]): string | undefined {
  const zeroPrefix = (n: number) => g.slice(0, n).every((x) => x === 0);
  const embedded = (hi: number, lo: number) => classifyV4(((hi << 16) >>> 0) + lo);
  if (g.every((x) => x === 0)) return 'unspecified';
  if (zeroPrefix(7) && g[7] === 1) return 'loopback';
  if (zeroPrefix(5) && g[5] === 0xffff) return `IPv4-mapped (${embedded(g[6]!, g[7]!) ?? 'mapped'})`;
  if (zeroPrefix(6)) return 'IPv4-compatible';
  if (zeroPrefix(4) && g[4] === 0xffff && g[5] === 0) return 'IPv4-translated';
  if (g[0] === 0x64 && g[1] === 0xff9b) return 'NAT64';
  if (g[0] === 0x100 && g[1] === 0 && g[2] === 0 && g[3] === 0) return 'discard-only';
  if (g[0] === 0x2001 && g[1]! < 0x200) return 'IETF protocol assignments (Teredo and others)';
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'documentation';
  if (g[0] === 0x2002) return '6to4';
  if ((g[0]! & 0xfe00) === 0xfc00) return 'unique local (fc00::/7)';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local (fe80::/10)';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'site-local (fec0::/10)';
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast';
  return undefined;
}

/**
 * Why `address` (an IP literal) must not be contacted, or undefined when it is public.
 * Anything that is not a well-formed IPv4/IPv6 literal is refused too.
 */
export function blockedAddressReason(address: string): string | undefined {
  const n = parseV4(address);
  if (n !== undefined) return classifyV4(n);
  const g = parseV6(address);
  if (g) return classifyV6(g);
  return 'not an IP address';
}
