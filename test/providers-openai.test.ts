// OpenAI-compatible provider against the loopback fake: request shape, retries, Retry-After,
// permanent failures, timeouts, refused connections, and every response-parsing error.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { settingsFromEnv } from '../src/config/index.js';
import { setEventSink } from '../src/observe/index.js';
import { OpenAICompatibleProvider } from '../src/providers/openai-compatible.js';
import { ProviderError, type ProviderRequest } from '../src/providers/index.js';
import { startFakeOpenAI, status, text, toolCalls, type FakeOpenAI } from './fakes/openai-server.js';
import { freePort, tempDir } from './helpers.js';

const KEY = 'test-key-ABCDEFGHIJKLMNOP';
let fake: FakeOpenAI;
let tmp: ReturnType<typeof tempDir>;
let events: Array<Record<string, unknown>> = [];
let restoreSink: ReturnType<typeof setEventSink>;

before(async () => {
  fake = await startFakeOpenAI();
  tmp = tempDir();
  restoreSink = setEventSink((line) => void events.push(JSON.parse(line)));
});
after(async () => {
  setEventSink(restoreSink);
  await fake.close();
  tmp.cleanup();
});
beforeEach(() => {
  fake.requests.length = 0;
  events = [];
});

function provider(env: Record<string, string> = {}, provider = 'openai'): OpenAICompatibleProvider {
  const settings = settingsFromEnv(
    {
      RUSTY_PINCH_PROVIDER: provider,
      RUSTY_PINCH_MODEL: 'test-model',
      RUSTY_PINCH_API_BASE: fake.base,
      RUSTY_PINCH_OPENAI_API_KEY: KEY,
      RUSTY_PINCH_REQUEST_RETRIES: '2',
      RUSTY_PINCH_RETRY_BACKOFF_MS: '1',
      RUSTY_PINCH_RETRY_MAX_BACKOFF_MS: '5',
      RUSTY_PINCH_REQUEST_TIMEOUT_SECS: '10',
      ...env,
    },
    tmp.dir,
  );
  return new OpenAICompatibleProvider(settings);
}

function request(extra: Partial<ProviderRequest> = {}): ProviderRequest {
  return {
    requestId: 'rp-test-1',
    sessionId: 's1',
    messages: [
      { role: 'system', content: 'system prompt' },
      { role: 'user', content: 'earlier question' },
      { role: 'assistant', content: 'earlier answer' },
      { role: 'user', content: 'hello there' },
    ],
    ...extra,
  };
}

async function failure(p: OpenAICompatibleProvider, req = request()): Promise<ProviderError> {
  try {
    await p.complete(req);
  } catch (err) {
    assert.ok(err instanceof ProviderError, `expected ProviderError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

test('success: request shape, headers, answer, attempts and tokens', async () => {
  fake.script({ kind: 'text', text: '  the answer  ', usage: { total_tokens: 42 } });
  const tools = [{ name: 'time_now', description: 'current time', parameters: { type: 'object', properties: {} } }];
  const res = await provider().complete(request({ tools }));
  assert.equal(res.content, 'the answer');
  assert.equal(res.attempts, 1);
  assert.equal(res.tokensUsed, 42);
  assert.equal(res.toolCalls, undefined);
  assert.ok(res.latencyMs >= 0);
  assert.equal(fake.requests.length, 1);
  const r = fake.requests[0]!;
  assert.equal(r.path, '/v1/chat/completions');
  assert.equal(r.headers.authorization, `Bearer ${KEY}`);
  assert.match(String(r.headers['content-type']), /application\/json/);
  assert.equal(r.headers['http-referer'], undefined, 'openrouter headers only for openrouter');
  assert.equal(r.body.model, 'test-model');
  assert.equal(r.body.temperature, 0.2);
  assert.deepEqual(r.body.messages, [
    { role: 'system', content: 'system prompt' },
    { role: 'user', content: 'earlier question' },
    { role: 'assistant', content: 'earlier answer' },
    { role: 'user', content: 'hello there' },
  ]);
  assert.deepEqual(r.body.tools, [{ type: 'function', function: { name: 'time_now', description: 'current time', parameters: { type: 'object', properties: {} } } }]);
});

test('no tools in the request → no `tools` key in the body', async () => {
  fake.script(text('ok'));
  await provider().complete(request());
  assert.equal('tools' in fake.requests[0]!.body, false);
});

test('openrouter gets its extra headers', async () => {
  fake.script(text('ok'));
  await provider({ RUSTY_PINCH_OPENROUTER_API_KEY: KEY }, 'openrouter').complete(request());
  const h = fake.requests[0]!.headers;
  assert.equal(h['http-referer'], 'https://rusty-pinch.local');
  assert.equal(h['x-title'], 'Rusty Pinch');
});

test('tool calls are parsed, and tool exchanges are sent in the OpenAI shapes', async () => {
  fake.script(toolCalls({ id: 'call_a', name: 'time_now', arguments: '{}' }, { name: 'session_tail', arguments: '{"args":"3"}' }));
  const res = await provider().complete(request());
  assert.equal(res.content, '');
  assert.deepEqual(res.toolCalls, [
    { id: 'call_a', name: 'time_now', arguments: '{}' },
    { id: 'call_2', name: 'session_tail', arguments: '{"args":"3"}' },
  ]);

  fake.script(text('done'));
  const msgs = [
    ...request().messages,
    { role: 'assistant' as const, content: '', tool_calls: res.toolCalls },
    { role: 'tool' as const, content: '2025-01-01T00:00:00Z', tool_call_id: 'call_a', name: 'time_now' },
    { role: 'tool' as const, content: 'orphan result', name: 'x' },
  ];
  await provider().complete(request({ messages: msgs }));
  const sent = fake.requests[1]!.body.messages;
  assert.deepEqual(sent[4], {
    role: 'assistant',
    content: null,
    tool_calls: [
      { id: 'call_a', type: 'function', function: { name: 'time_now', arguments: '{}' } },
      { id: 'call_2', type: 'function', function: { name: 'session_tail', arguments: '{"args":"3"}' } },
    ],
  });
  assert.deepEqual(sent[5], { role: 'tool', tool_call_id: 'call_a', content: '2025-01-01T00:00:00Z' });
  assert.deepEqual(sent[6], { role: 'system', content: '[tool:x]\norphan result' }, 'a result without a call id is kept as context');
});

test('429 then 500 then success: retried, attempts counted, retry events emitted', async () => {
  fake.script(status(429), status(500), text('third time lucky'));
  const res = await provider().complete(request());
  assert.equal(res.content, 'third time lucky');
  assert.equal(res.attempts, 3);
  assert.equal(fake.requests.length, 3);
  const retries = events.filter((e) => e.event === 'provider_retry');
  assert.equal(retries.length, 2);
  assert.equal(retries[0]!.attempt, 1);
  assert.equal(retries[0]!.total, 3);
  assert.match(String(retries[0]!.error), /http_status=429/);
});

test('every transient status is retried (408, 409, 425, 503)', async () => {
  for (const code of [408, 409, 425, 503]) {
    fake.requests.length = 0;
    fake.script(status(code), text('ok'));
    const res = await provider().complete(request());
    assert.equal(res.attempts, 2, String(code));
  }
});

test('retries exhausted: the last transient failure is reported with k/N', async () => {
  fake.script(status(503, 'busy'), status(503, 'busy'), status(503, 'still busy'));
  const err = await failure(provider());
  assert.equal(err.message, 'provider call failed on attempt 3/3: transient error: http_status=503; provider_error=still busy');
  assert.equal(err.attempts, 3);
  assert.equal(fake.requests.length, 3);
});

test('Retry-After (seconds) is honoured over a tiny backoff', async () => {
  fake.script(status(429, 'slow down', { 'retry-after': '1' }), text('after waiting'));
  const res = await provider().complete(request());
  assert.equal(res.content, 'after waiting');
  const gap = fake.requests[1]!.at - fake.requests[0]!.at;
  assert.ok(gap >= 800, `expected about a second between attempts, got ${gap} ms`);
  assert.ok(res.latencyMs >= 800, 'latency includes the wait');
  assert.equal(events.find((e) => e.event === 'provider_retry')?.retry_after, true);
});

test('retry-after-ms is honoured too', async () => {
  fake.script(status(503, 'x', { 'retry-after-ms': '400' }), text('ok'));
  await provider().complete(request());
  const gap = fake.requests[1]!.at - fake.requests[0]!.at;
  assert.ok(gap >= 300, `gap ${gap}`);
});

test('401 is permanent, names the variable the key came from, never the key', async () => {
  fake.script(status(401, `Incorrect API key provided: ${KEY}`));
  const err = await failure(provider());
  assert.equal(fake.requests.length, 1, 'not retried');
  assert.equal(err.attempts, 1);
  assert.match(err.message, /^provider call failed on attempt 1\/3: permanent error: /);
  assert.match(err.message, /RUSTY_PINCH_OPENAI_API_KEY/);
  assert.match(err.message, /refused/);
  assert.equal(err.message.includes(KEY), false, err.message);
});

test('403 says the same; 400 fails at once with the provider message', async () => {
  fake.script(status(403, 'forbidden'));
  assert.match((await failure(provider())).message, /API key from RUSTY_PINCH_OPENAI_API_KEY was refused/);
  fake.requests.length = 0;
  fake.script(status(400, 'bad request: model missing'));
  const err = await failure(provider());
  assert.equal(fake.requests.length, 1);
  assert.equal(err.message, 'provider call failed on attempt 1/3: permanent error: http_status=400; provider_error=bad request: model missing');
});

test('an error status with a non-JSON body keeps a short excerpt', async () => {
  fake.script({ kind: 'raw', status: 404, body: '<html>nope</html>', contentType: 'text/html' });
  const err = await failure(provider());
  assert.match(err.message, /permanent error: http_status=404; provider_error=<html>nope<\/html>/);
});

test('a hanging server: each attempt times out, retried, then a clear error', async () => {
  fake.script({ kind: 'hang' }, { kind: 'hang' });
  const err = await failure(provider({ RUSTY_PINCH_REQUEST_TIMEOUT_SECS: '1', RUSTY_PINCH_REQUEST_RETRIES: '1' }));
  assert.equal(err.message, 'provider call failed on attempt 2/2: transient error: request timed out after 1s');
  assert.equal(err.attempts, 2);
  assert.equal(fake.requests.length, 2);
  assert.ok(err.latencyMs >= 1500, `latency ${err.latencyMs}`);
});

test('connection refused is transient and retried', async () => {
  const port = await freePort();
  const p = provider({ RUSTY_PINCH_API_BASE: `http://127.0.0.1:${port}/v1` });
  const err = await failure(p);
  assert.equal(err.attempts, 3);
  assert.match(err.message, /^provider call failed on attempt 3\/3: transient error: network error: .*ECONNREFUSED/);
});

test('a connection reset mid-request is transient', async () => {
  fake.script({ kind: 'reset' }, text('recovered'));
  const res = await provider().complete(request());
  assert.equal(res.content, 'recovered');
  assert.equal(res.attempts, 2);
});

const parseCases: Array<[string, string, string]> = [
  ['garbage', 'this is not json{', 'failed parsing provider response json'],
  ['empty body', '', 'failed parsing provider response json'],
  ['missing choices', '{"id":"x"}', 'provider response missing choices array'],
  ['choices not an array', '{"choices":{"0":1}}', 'provider response missing choices array'],
  ['top-level array', '[1,2]', 'provider response missing choices array'],
  ['empty choices', '{"choices":[]}', 'provider response has empty choices array'],
  ['missing message', '{"choices":[{"index":0}]}', 'provider response missing choices[0].message'],
  ['missing content', '{"choices":[{"message":{"role":"assistant"}}]}', 'provider response missing choices[0].message.content'],
  ['null content', '{"choices":[{"message":{"content":null}}]}', 'provider response missing choices[0].message.content'],
  ['blank content', '{"choices":[{"message":{"content":"   "}}]}', 'provider response content is empty'],
  ['empty array content', '{"choices":[{"message":{"content":[{"type":"text","text":" "}]}}]}', 'provider response content is empty'],
  ['error object in 200', '{"error":{"message":"invalid model"}}', 'provider returned error: invalid model'],
  ['error string in 200', '{"error":"nope"}', 'provider returned error: nope'],
  ['error of odd type', '{"error":42}', 'provider returned error: unknown error'],
  ['tool call without a name', '{"choices":[{"message":{"content":null,"tool_calls":[{"id":"a","function":{"arguments":"{}"}}]}}]}', 'provider response has a tool call without a name at index 0'],
  ['tool call not an object', '{"choices":[{"message":{"content":null,"tool_calls":["x"]}}]}', 'provider response has a malformed tool call at index 0'],
];

for (const [name, body, message] of parseCases) {
  test(`parse error (${name}) is permanent: ${message}`, async () => {
    fake.script({ kind: 'raw', body });
    const err = await failure(provider());
    assert.equal(fake.requests.length, 1, 'not retried');
    assert.equal(err.message, `provider call failed on attempt 1/3: permanent error: ${message}`);
  });
}

test('a 200 error that reads transient (rate limit) is retried', async () => {
  fake.script({ kind: 'raw', body: '{"error":{"message":"Rate limit reached"}}' }, text('ok'));
  const res = await provider().complete(request());
  assert.equal(res.attempts, 2);
});

test('array content: trimmed non-empty text parts joined with newlines', async () => {
  fake.script({ kind: 'raw', body: JSON.stringify({ choices: [{ message: { content: [{ type: 'text', text: ' one ' }, { type: 'image' }, { type: 'text', text: '' }, { type: 'text', text: 'two' }] } }] }) });
  const res = await provider().complete(request());
  assert.equal(res.content, 'one\ntwo');
});

test('non-UTF-8 body is a permanent error', async () => {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (server.address() as AddressInfo).port;
    const err = await failure(provider({ RUSTY_PINCH_API_BASE: `http://127.0.0.1:${port}/v1` }));
    assert.equal(err.message, 'provider call failed on attempt 1/3: permanent error: provider returned non-utf8 response');
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('missing key and missing base fail before any request, with hints', async () => {
  const noKey = new OpenAICompatibleProvider(settingsFromEnv({ RUSTY_PINCH_PROVIDER: 'groq', RUSTY_PINCH_API_BASE: fake.base }, tmp.dir));
  const e1 = await failure(noKey);
  assert.equal(e1.message, "missing API key for provider 'groq'");
  assert.equal(e1.attempts, 0);
  assert.match(e1.hint ?? '', /RUSTY_PINCH_API_KEY.*GROQ_API_KEY/);
  const noBase = new OpenAICompatibleProvider(settingsFromEnv({ RUSTY_PINCH_PROVIDER: 'vllm', RUSTY_PINCH_API_KEY: KEY }, tmp.dir));
  const e2 = await failure(noBase);
  assert.equal(e2.message, "missing API base for provider 'vllm'");
  assert.match(e2.hint ?? '', /RUSTY_PINCH_API_BASE/);
  assert.equal(fake.requests.length, 0);
});

test('an aborted turn stops retrying', async () => {
  fake.script({ kind: 'hang' }, { kind: 'hang' }, { kind: 'hang' });
  const ctrl = new AbortController();
  setTimeout(() => ctrl.abort(), 200);
  const err = await failure(provider(), request({ signal: ctrl.signal }));
  assert.equal(err.attempts, 1);
  assert.match(err.message, /request aborted/);
  assert.equal(fake.requests.length, 1);
});

