// `repl`: an interactive loop over the runtime. Ctrl-D, `exit` or `quit` leave cleanly; a
// failed turn is printed and the loop goes on.
import { createInterface } from 'node:readline';
import { createApp } from '../app/index.js';
import type { CommandOutput } from './output.js';

export async function runRepl(sessionId: string): Promise<CommandOutput> {
  const app = await createApp();
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: '> ', terminal: process.stdin.isTTY === true });
  process.stdout.write("Rusty Pinch REPL. Type 'exit' to stop.\n");
  rl.prompt();
  try {
    for await (const raw of rl) {
      const line = raw.trim();
      if (line === '') {
        rl.prompt();
        continue;
      }
      if (/^(exit|quit)$/i.test(line)) break;
      const reply = await app.runtime.handle({ sessionId, text: line, channel: 'cli' });
      if (reply.status === 'ok') process.stdout.write(reply.text + '\n');
      else process.stderr.write(`Error: ${reply.text}\n`);
      rl.prompt();
    }
  } finally {
    rl.close();
    await app.close();
  }
  process.stdout.write('Bye.\n');
  return {};
}
