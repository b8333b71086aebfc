// The one outbound URL policy (skills' http_get/http_post, Pulse health checks and HTTP actions):
// parse once with the WHATWG URL parser (which canonicalises every numeric IPv4 spelling), refuse
// user-info, non-http(s) and local names, then resolve the host and check EVERY address. The
// caller connects to the address returned here (pinned), so DNS rebinding cannot switch it.
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { blockedAddressReason } from './ip-policy.js';
import { AppError } from '../kernel/index.js';

export const MAX_URL_CHARS = 2048;

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (injectable for tests). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) => {
  const all = await dnsLookup(hostname, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

export interface UrlPolicy {
  /** Lower-case host names (or IP literals) opened deliberately by the operator. */
  allow: string[];
  /** Every private/local address allowed (Pulse health checks of local services, when the operator says so). */
  allowPrivate?: boolean;
  resolver?: Resolver;
}

export interface CheckedTarget {
  url: URL;
  /** Host name as in the URL, without IPv6 brackets (for Host/SNI). */
  hostname: string;
  port: number;
  /** The address to connect to: one that was checked (or allowlisted). */
  address: ResolvedAddress;
  allowlisted: boolean;
}

export class UrlPolicyError extends AppError {
  constructor(message: string) {
    super('url_policy', message);
  }
}

/** Syntax checks only (no DNS): returns the parsed URL or throws UrlPolicyError. */
export function parseSkillUrl(raw: string): URL {
  if (typeof raw !== 'string') throw new UrlPolicyError('url must be a string');
  const text = raw.trim();
  if (text === '') throw new UrlPolicyError('url is empty');
  if (text.length > MAX_URL_CHARS) throw new UrlPolicyError('url too long');
  if (/[\s\p{Cc}\p{Cf}]/u.test(text)) throw new UrlPolicyError('url contains invalid characters');
  if (!/^https?:\/\//i.test(text)) throw new UrlPolicyError('only http/https urls are allowed');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UrlPolicyError('failed parsing url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UrlPolicyError('only http/https urls are allowed');
  // `http://a@127.0.0.1` and friends: credentials in URLs are never needed by a skill.
  if (url.username !== '' || url.password !== '' || authority(text).includes('@')) throw new UrlPolicyError('urls with user-info (user@host) are not allowed');
  if (url.hostname === '') throw new UrlPolicyError('failed parsing url host');
  return url;
}

/** The raw authority part (between `//` and the first `/`, `?`, `#` or `\`). */
function authority(text: string): string {
  const rest = text.replace(/^https?:\/\//i, '');
  const end = rest.search(/[/?#\\]/);
  return end < 0 ? rest : rest.slice(0, end);
}

function bareHost(url: URL): string {
  const h = url.hostname.toLowerCase();
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** Canonical form of an allowlist entry (so `2130706433` or `[::1]` match as the URL would). */
export function normalizeAllowEntry(entry: string): string {
  let e = entry.trim().toLowerCase();
  if (e.startsWith('[') && e.endsWith(']')) e = e.slice(1, -1);
  try {
    return bareHost(new URL(isIP(e) === 6 ? `http://[${e}]/` : `http://${e}/`)).replace(/\.$/, '');
  } catch {
    return e.replace(/\.$/, '');
  }
}

/** Parses, resolves and checks. Throws UrlPolicyError naming the refused host/address. */
export async function checkSkillUrl(raw: string, policy: UrlPolicy): Promise<CheckedTarget> {
  const url = parseSkillUrl(raw);
  const hostname = bareHost(url);
  const hostKey = hostname.replace(/\.$/, '');
  const allowlisted = policy.allowPrivate === true || policy.allow.some((a) => normalizeAllowEntry(a) === hostKey);
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const blocked = (why: string) => new UrlPolicyError(`url host '${hostname}' is blocked by sandbox policy (${why})`);

  let addresses: ResolvedAddress[];
  const literal = isIP(hostname);
  if (literal) {
    addresses = [{ address: hostname, family: literal === 6 ? 6 : 4 }];
  } else {
    if (!allowlisted && (hostKey === 'localhost' || hostKey.endsWith('.localhost') || hostKey.endsWith('.local') || hostKey.endsWith('.internal'))) throw blocked('local name');
    try {
      addresses = await (policy.resolver ?? systemResolver)(hostname);
    } catch (err) {
      throw new UrlPolicyError(`failed resolving url host '${hostname}': ${(err as Error).message ?? String(err)}`);
    }
    if (addresses.length === 0) throw new UrlPolicyError(`failed resolving url host '${hostname}': no addresses`);
  }
  if (!allowlisted) {
    for (const a of addresses) {
      const why = blockedAddressReason(a.address);
      if (why) throw blocked(literal ? why : `resolves to ${a.address}: ${why}`);
    }
  }
  return { url, hostname, port, address: addresses[0]!, allowlisted };
}
