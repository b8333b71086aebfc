// `tools list`: the registered tools in name order. Text: `<name> - <description>\n  usage:
// <usage>` per tool (the original's format); `--json`: [{name, description, usage}].
import { createApp } from '../app/index.js';
import { LocalProvider } from '../providers/index.js';

export interface ToolInfo {
  name: string;
  description: string;
  usage: string;
}

export async function listTools(): Promise<ToolInfo[]> {
  // Listing tools needs no provider: a local stand-in avoids loading or checking the real one.
  const app = await createApp({ provider: new LocalProvider('local', 'local') });
  try {
    return app.tools.list().map((t) => ({ name: t.name, description: t.description, usage: t.usage }));
  } finally {
    await app.close();
  }
}

export function toolsText(tools: ToolInfo[]): string {
  return tools.map((t) => `${t.name} - ${t.description}\n  usage: ${t.usage}`).join('\n');
}
