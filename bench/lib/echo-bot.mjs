// The baseline for bench/soak.bench.ts: a minimal Telegram echo bot (long polling, replies sent
// concurrently, keep-alive), the least any bot must do per message. argv: <api root> <token>.
const [root, token] = process.argv.slice(2);
const call = async (method, body) => {
  const r = await fetch(`${root}/bot${token}/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const j = await r.json();
  if (!j.ok) throw new Error(`${method}: ${j.description}`);
  return j.result;
};
let offset = 0;
let stop = false;
process.on('SIGTERM', () => (stop = true));
await call('getMe', {});
process.stdout.write('ready\n');
while (!stop) {
  let updates;
  try {
    updates = await call('getUpdates', { offset, limit: 100, timeout: 1, allowed_updates: ['message'] });
  } catch {
    await new Promise((r) => setTimeout(r, 500));
    continue;
  }
  await Promise.all(
    updates.map((u) => {
      offset = Math.max(offset, u.update_id + 1);
      const m = u.message;
      return m?.text ? call('sendMessage', { chat_id: m.chat.id, text: `echo: ${m.text}` }).catch(() => undefined) : undefined;
    }),
  );
}
process.exit(0);
