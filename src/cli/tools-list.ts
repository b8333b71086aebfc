// `tools list` text: `<name> - <description>\n  usage: <usage>` per tool, in name order.
import { createApp } from '../app/index.js';
import { LocalProvider } from '../providers/index.js';

export async function listToolsText(): Promise<string> {
  // Listing tools needs no provider: a local stand-in avoids loading or checking the real one.
  const app = await createApp({ provider: new LocalProvider('local', 'local') });
  return app.tools
    .list()
    .map((t) => `${t.name} - ${t.description}\n  usage: ${t.usage}`)
    .join('\n');
}
