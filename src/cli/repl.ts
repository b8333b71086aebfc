// `repl`: an interactive loop over the runtime. Ctrl-D, `exit` or `quit` leave cleanly; a
// failed turn is printed and the loop goes on. The banner, `> ` prompts and `Bye.` are for a
// person typing: with stdin not a terminal (piped input) stdout carries only the answers, and
// with stdout redirected (`repl | tee log`) they go to stderr so the log holds only answers.
import { createInterface } from 'node:readline';
import { loadSettings } from '../config/index.js';
import { createApp } from '../app/index.js';
import type { CommandOutput } from './output.js';
import { firstRunNotice, missingDirs } from './first-run.js';
import { painter } from './style.js';

export async function runRepl(sessionId: string): Promise<CommandOutput> {
  const interactive = process.stdin.isTTY === true;
  const settings = loadSettings();
  const before = missingDirs(settings);
  const app = await createApp({ settings });
  firstRunNotice(before, settings);
  const ui = process.stdout.isTTY ? process.stdout : process.stderr;
  const paint = painter(ui);
  const rl = createInterface({ input: process.stdin, output: interactive ? ui : undefined, prompt: paint('cyan', '> '), terminal: interactive });
  const prompt = () => {
    if (interactive) rl.prompt();
  };
  if (interactive) ui.write("Rusty Pinch REPL. Type 'exit' to stop.\n");
  prompt();
  try {
    for await (const raw of rl) {
      const line = raw.trim();
      if (line === '') {
        prompt();
        continue;
      }
      if (/^(exit|quit)$/i.test(line)) break;
      const reply = await app.runtime.handle({ sessionId, text: line, channel: 'cli' });
      if (reply.status === 'ok') process.stdout.write(reply.text + '\n');
      else process.stderr.write(`${painter(process.stderr)('red', 'Error:')} ${reply.text}\n`);
      prompt();
    }
  } finally {
    rl.close();
    await app.close();
  }
  if (interactive) ui.write('Bye.\n');
  return {};
}
