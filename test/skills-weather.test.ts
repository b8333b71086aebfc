// The weather starter skill against a loopback wttr.in fake: modes, "here" aliases, URL
// shapes, ANSI stripping, empty answers, errors; and that production points at wttr.in.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SkillManager, type Resolver } from '../src/skills/index.js';
import type { SkillSettings } from '../src/config/index.js';
import { ROOT, tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('rp-skills-weather-');
const urls: string[] = [];
let reply: { status: number; body: string } = { status: 200, body: '' };
const server: Server = createServer((req, res) => {
  urls.push(req.url ?? '');
  res.writeHead(reply.status);
  res.end(reply.body);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const settings: SkillSettings = { httpTimeoutSecs: 2, httpAllow: ['127.0.0.1'], memoryLimitMb: 32, timeoutMs: 3000, maxOutputBytes: 65536, maxHttpCalls: 4, httpMaxBodyBytes: 65536 };
// Assets are synced from the real package directory, as in production.
const manager = new SkillManager(dir, settings, { constants: { WTTR_BASE_URL: base } });
after(async () => {
  await manager.close();
  await new Promise((r) => server.close(r));
  cleanup();
});

const CURRENT = '?format=%l:+%c+%t+(feels+like+%f),+%w+wind,+%h+humidity';

async function ask(args: string, body = 'Hanoi: sunny +30°C'): Promise<{ out: string; url: string }> {
  reply = { status: 200, body };
  urls.length = 0;
  const out = await manager.run('weather', args);
  assert.equal(urls.length, 1);
  return { out, url: urls[0]! };
}

test('the starter skill is copied into the workspace and listed with its description', () => {
  const list = manager.list();
  const w = list.find((s) => s.name === 'weather');
  assert.ok(w, 'weather synced from assets/skills');
  assert.match(w.description ?? '', /wttr\.in/);
});

test('argument modes build the original wttr.in URLs', async () => {
  assert.equal((await ask('Hanoi')).url, `/Hanoi${CURRENT}`);
  assert.equal((await ask('forecast|Hanoi')).url, '/Hanoi?format=v2');
  assert.equal((await ask('FORECAST|Hanoi')).url, '/Hanoi?format=v2');
  assert.equal((await ask('rain|Ho Chi Minh')).url, '/Ho+Chi+Minh?format=%l:+%c+%p');
  assert.equal((await ask('detail|Hanoi')).url, '/Hanoi?0');
  assert.equal((await ask('Detail | Hanoi ')).url, '/Hanoi?0');
  assert.equal((await ask('fOrEcAsT|Hanoi')).url, `/Hanoi${CURRENT}`, 'only the exact spellings select a mode');
  assert.equal((await ask('forecast')).url, `/forecast${CURRENT}`, 'a lone word is a location');
  assert.equal((await ask('forecast|Hanoi|ignored')).url, '/Hanoi?format=v2');
  assert.equal((await ask('weird?x#y|Hanoi')).url, `/Hanoi${CURRENT}`);
  assert.equal((await ask('a?b#c')).url, `/a%3Fb%23c${CURRENT}`, 'a location cannot inject query or fragment');
});

test('"here" aliases and empty args mean the IP location', async () => {
  for (const args of ['', 'here', 'HERE', 'local', 'Current', 'ở đây', 'o day', 'tai day', 'forecast|here', 'rain|']) {
    const { url } = await ask(args);
    assert.match(url, /^\/\?/, `${JSON.stringify(args)} → ${url}`);
  }
  assert.equal((await ask('forecast|here')).url, '/?format=v2');
});

test('ANSI escapes are stripped; empty answers and HTTP errors are reported', async () => {
  const { out } = await ask('detail|Hanoi', '\u001b[38;5;226m  Sunny\u001b[0m \u001b]8;;http://x\u0007link\u001b]8;;\u0007 +30\u00b0C\r\n\n');
  assert.equal(out, 'Sunny link +30\u00b0C');
  assert.equal((await ask('Hanoi', '  \n')).out, 'No weather data returned for Hanoi');
  assert.equal((await ask('here', '')).out, 'No weather data returned for current IP location');
  reply = { status: 503, body: 'Unknown location; please try ~\u001b[31mHanoi' };
  await assert.rejects(manager.run('weather', 'Hanoi'), /weather service answered HTTP 503: Unknown location/);
});

test('without the test constant the skill asks wttr.in (through the same URL policy)', async () => {
  const ws = tempDir('rp-skills-weather-prod-');
  mkdirSync(join(ws.dir, 'skills'), { recursive: true });
  copyFileSync(join(ROOT, 'assets', 'skills', 'weather.js'), join(ws.dir, 'skills', 'weather.js'));
  const asked: string[] = [];
  const resolver: Resolver = async (host) => {
    asked.push(host);
    return [{ address: '127.0.0.1', family: 4 }]; // refused by policy: nothing leaves the machine
  };
  const prod = new SkillManager(ws.dir, { ...settings, httpAllow: [] }, { assetsDir: null, resolver });
  try {
    await assert.rejects(prod.run('weather', 'Hanoi'), /url host 'wttr\.in' is blocked by sandbox policy/);
    assert.deepEqual(asked, ['wttr.in']);
  } finally {
    await prod.close();
    ws.cleanup();
  }
});
