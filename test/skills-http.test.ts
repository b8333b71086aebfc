// Outbound URL policy for skills: every address form refused, DNS answers checked and pinned,
// redirects returned (never followed), caps and timeouts, and the allowlisted happy path.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkSkillUrl, parseSkillUrl, SkillManager, type Resolver } from '../src/skills/index.js';
import { skillHttpRequest } from '../src/net/index.js';
import type { SkillSettings } from '../src/config/index.js';
import { tempDir } from './helpers.js';

const servers: Server[] = [];
const { dir, cleanup } = tempDir('rp-skills-http-');
after(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  cleanup();
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ port: number; hits: Array<{ url: string; host: string; body: string; headers: IncomingMessage['headers'] }> }> {
  const hits: Array<{ url: string; host: string; body: string; headers: IncomingMessage['headers'] }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      hits.push({ url: req.url ?? '', host: req.headers.host ?? '', body, headers: req.headers });
      handler(req, res, body);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, hits };
}

const table: Record<string, string[]> = {
  'public.test': ['93.184.216.34'],
  'evil.test': ['10.0.0.5'],
  'rebind.test': ['93.184.216.34', '127.0.0.1'],
  'meta.test': ['169.254.169.254'],
  'v6.test': ['fd00::1'],
  'mapped.test': ['::ffff:192.168.0.1'],
  'allowed.test': ['127.0.0.1'],
};
const resolverCalls: string[] = [];
const resolver: Resolver = async (host) => {
  resolverCalls.push(host);
  const a = table[host];
  if (!a) throw new Error(`ENOTFOUND ${host}`);
  return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

test('syntax refusals: schemes, user-info tricks, control chars, length', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /url is empty/],
    ['ftp://example.com/', /only http\/https/],
    ['file:///etc/passwd', /only http\/https/],
    ['javascript:alert(1)', /only http\/https/],
    ['http://a@127.0.0.1/', /user-info/],
    ['http://user:pass@example.com/', /user-info/],
    ['http://example.com@127.0.0.1/', /user-info/],
    ['http://exa mple.com/', /invalid characters/],
    ['http://example.com/a\nb', /invalid characters/],
    ['http://example.com/\u200b', /invalid characters/],
    [`http://example.com/${'a'.repeat(2100)}`, /url too long/],
    ['http://[::1/', /failed parsing url/],
  ];
  for (const [url, re] of cases) assert.throws(() => parseSkillUrl(url), re, url);
  assert.throws(() => parseSkillUrl(42 as unknown as string), /must be a string/);
});

test('every local/private/special address form is refused, numeric spellings included', async () => {
  const refused = [
    'http://127.0.0.1/', 'http://127.0.0.1#@example.com/', 'http://127.0.0.1?@example.com/', 'http://2130706433/', 'http://0177.0.0.1/', 'http://0x7f.1/', 'http://0x7f000001/',
    'http://127.1/', 'http://127.0.0.1./', 'http://017700000001/', 'http://localhost/', 'http://LOCALHOST./', 'http://foo.localhost/', 'http://printer.local/',
    'http://10.1.2.3/', 'http://172.16.0.1/', 'http://172.31.255.254/', 'http://192.168.1.1/', 'http://169.254.169.254/latest/meta-data/', 'http://100.64.0.1/', 'http://100.127.255.255/',
    'http://0.0.0.0/', 'http://0/', 'http://224.0.0.1/', 'http://239.255.255.250/', 'http://255.255.255.255/', 'http://240.0.0.1/',
    'http://[::1]/', 'http://[0:0:0:0:0:0:0:1]/', 'http://[::]/', 'http://[::ffff:127.0.0.1]/', 'http://[::ffff:7f00:1]/', 'http://[::ffff:10.0.0.1]/', 'http://[fc00::1]/', 'http://[fd12:3456::1]/',
    'http://[fe80::1]/', 'http://[ff02::1]/', 'http://[64:ff9b::7f00:1]/', 'http://[2002:7f00:1::]/', 'https://127.0.0.1:8443/',
    'http://evil.test/', 'http://rebind.test/', 'http://meta.test/', 'http://v6.test/', 'http://mapped.test/',
  ];
  for (const url of refused) {
    await assert.rejects(checkSkillUrl(url, { allow: [], resolver }), /blocked by sandbox policy/, url);
  }
  assert.ok(resolverCalls.includes('rebind.test'), 'names are resolved and every address is checked');
  // curl-style globbing means nothing here: the braces are just an unresolvable name.
  await assert.rejects(checkSkillUrl('http://{127.0.0.1,example.com}/', { allow: [], resolver }), /failed resolving|failed parsing/);
  await assert.rejects(checkSkillUrl('http://nowhere.test/', { allow: [], resolver }), /failed resolving url host 'nowhere.test'/);
});

test('public addresses pass and the checked address is the one returned for the connection', async () => {
  const t = await checkSkillUrl('https://public.test/x?y=1#frag', { allow: [], resolver });
  assert.deepEqual(t.address, { address: '93.184.216.34', family: 4 });
  assert.equal(t.hostname, 'public.test');
  assert.equal(t.port, 443);
  const ip = await checkSkillUrl('http://8.8.8.8:8080/', { allow: [], resolver });
  assert.equal(ip.address.address, '8.8.8.8');
  const v6 = await checkSkillUrl('http://[2606:4700:4700::1111]/', { allow: [], resolver });
  assert.equal(v6.address.family, 6);
});

test('the allowlist opens named hosts deliberately (canonical forms match)', async () => {
  assert.equal((await checkSkillUrl('http://allowed.test/', { allow: ['allowed.test'], resolver })).address.address, '127.0.0.1');
  assert.equal((await checkSkillUrl('http://2130706433/', { allow: ['127.0.0.1'], resolver })).allowlisted, true);
  assert.equal((await checkSkillUrl('http://[::1]/', { allow: ['[::1]'], resolver })).allowlisted, true);
  await assert.rejects(checkSkillUrl('http://127.0.0.2/', { allow: ['127.0.0.1'], resolver }), /blocked/);
});

const opts = (allow: string[], extra: Partial<Parameters<typeof skillHttpRequest>[3]> = {}) => ({ policy: { allow, resolver }, timeoutMs: 2000, maxBodyBytes: 64 * 1024, ...extra });

test('the connection goes to the checked address with the original Host (one DNS lookup, no rebinding)', async () => {
  const srv = await serve((_req, res) => res.end('pinned'));
  resolverCalls.length = 0;
  const r = await skillHttpRequest('GET', `http://allowed.test:${srv.port}/p?q=1`, undefined, opts(['allowed.test']));
  assert.deepEqual(r, { status: 200, body: 'pinned' });
  assert.deepEqual(resolverCalls, ['allowed.test']);
  assert.equal(srv.hits[0]!.host, `allowed.test:${srv.port}`);
  assert.equal(srv.hits[0]!.url, '/p?q=1');
  assert.match(String(srv.hits[0]!.headers['user-agent']), /^curl\//);
});

test('redirects are returned, not followed; following one to 127.0.0.1 by hand is refused', async () => {
  const secret = await serve((_req, res) => res.end('SECRET'));
  const redirector = await serve((_req, res) => {
    res.writeHead(302, { location: `http://127.0.0.1:${secret.port}/secret` });
    res.end('moved');
  });
  const r = await skillHttpRequest('GET', `http://allowed.test:${redirector.port}/`, undefined, opts(['allowed.test']));
  assert.equal(r.status, 302);
  assert.equal(r.location, `http://127.0.0.1:${secret.port}/secret`);
  await assert.rejects(skillHttpRequest('GET', r.location!, undefined, opts(['allowed.test'])), /blocked by sandbox policy/);
  assert.equal(secret.hits.length, 0);
});

test('bodies are plain strings ("@/etc/passwd" is sent as is); response bodies are capped; timeouts', async () => {
  const echo = await serve((req, res) => res.end(`${req.method} ${req.headers['content-type']} ${Buffer.byteLength(String(req.headers['content-length'] ?? ''))}`));
  const r = await skillHttpRequest('POST', `http://127.0.0.1:${echo.port}/`, '@/etc/passwd', opts(['127.0.0.1']));
  assert.equal(echo.hits[0]!.body, '@/etc/passwd');
  assert.match(r.body, /^POST application\/json/);
  const big = await serve((_req, res) => res.end('z'.repeat(200 * 1024)));
  await assert.rejects(skillHttpRequest('GET', `http://127.0.0.1:${big.port}/`, undefined, opts(['127.0.0.1'])), /response body exceeds 65536 bytes/);
  const silent = await serve(() => undefined);
  await assert.rejects(skillHttpRequest('GET', `http://127.0.0.1:${silent.port}/`, undefined, opts(['127.0.0.1'], { timeoutMs: 300 })), /timed out after 300 ms/);
  await assert.rejects(skillHttpRequest('POST', `http://127.0.0.1:${echo.port}/`, 'x'.repeat(70 * 1024), opts(['127.0.0.1'])), /request body exceeds/);
});

test('a skill calls a loopback server through the allowlist; without it the call is refused', async () => {
  const api = await serve((req, res, body) => {
    res.writeHead(req.url === '/missing' ? 404 : 200);
    res.end(req.method === 'POST' ? `got:${body}` : `hello from ${req.url}`);
  });
  mkdirSync(join(dir, 'skills'), { recursive: true });
  writeFileSync(join(dir, 'skills', 'caller.js'), `async function main(base) {
    const a = await http_get(base + '/one');
    const b = await http_post(base + '/two', JSON.stringify({ k: 1 }));
    const c = await http_get(base + '/missing');
    return [a.status, a.body, b.status, b.body, c.status].join('|');
  }`);
  writeFileSync(join(dir, 'skills', 'sneaky.js'), `async function main(base) {
    try { await http_get(base); return 'reached' } catch (e) { return 'refused: ' + e.message }
  }`);
  const settings: SkillSettings = { httpTimeoutSecs: 2, httpAllow: ['127.0.0.1'], memoryLimitMb: 32, timeoutMs: 3000, maxOutputBytes: 65536, maxHttpCalls: 8, httpMaxBodyBytes: 65536 };
  const allowed = new SkillManager(dir, settings, { assetsDir: null });
  const closed = new SkillManager(dir, { ...settings, httpAllow: [] }, { assetsDir: null });
  try {
    assert.equal(await allowed.run('caller', `http://127.0.0.1:${api.port}`), `200|hello from /one|200|got:{"k":1}|404`);
    assert.match(await closed.run('sneaky', `http://127.0.0.1:${api.port}/`), /^refused: url host '127\.0\.0\.1' is blocked by sandbox policy/);
    assert.match(await closed.run('sneaky', `http://2130706433:${api.port}/`), /^refused: .*blocked/);
    assert.equal(api.hits.length, 3);
  } finally {
    await allowed.close();
    await closed.close();
  }
});
