// CLI group: pairing list|approve|revoke — the operator admits unknown chat senders who got a
// one-time pairing code, or takes access back. JSON output; a running channel sees the change
// without a restart (issue 3).
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { action } from './output.js';

const CHANNELS = ['telegram', 'whatsapp'];

function channelArg(value: string): string {
  const v = value.trim().toLowerCase();
  if (!CHANNELS.includes(v)) throw new InvalidArgumentError(`unknown channel '${value}' (expected ${CHANNELS.join(' or ')})`);
  return v;
}

async function store() {
  const [{ loadSettings }, { PairingStore }] = await Promise.all([import('../config/index.js'), import('../channels/index.js')]);
  return new PairingStore(loadSettings().dataDir);
}

/** PairingError (unknown code, unknown sender) → a ValidationError: `Error: …`, exit 1. */
async function operatorError(err: unknown): Promise<never> {
  const { PairingError } = await import('../channels/index.js');
  if (err instanceof PairingError) {
    const { ValidationError } = await import('../core/index.js');
    throw new ValidationError(err.message, { hint: 'run `rusty-pinch pairing list` to see pending codes and approved senders' });
  }
  throw err;
}

export function registerPairingCommands(program: Command): void {
  const pairing = program.command('pairing').description('admit or remove chat senders (DM pairing codes)');

  pairing
    .command('list')
    .description('print pending pairing codes and approved senders as JSON')
    .option('--channel <name>', 'only this channel (telegram or whatsapp)', channelArg)
    .action(
      action(async (opts: { channel?: string }) => {
        const { pending, approved } = (await store()).list();
        const keep = <T extends { channel: string }>(xs: T[]): T[] => (opts.channel ? xs.filter((x) => x.channel === opts.channel) : xs);
        return {
          json: {
            pending: keep(pending).map((p) => ({ channel: p.channel, code: p.code, sender: p.sender, chat_id: p.chat_id, aliases: p.aliases, created_at: p.created_at, expires_at: p.expires_at })),
            approved: keep(approved),
          },
        };
      }),
    );

  pairing
    .command('approve')
    .description('admit the sender who was given <code>')
    .argument('<channel>', 'telegram or whatsapp', channelArg)
    .argument('<code>', 'the pairing code the sender received')
    .action(
      action(async (channel: string, code: string) => {
        const s = await store();
        const approved = await s.approve(channel, code).catch(operatorError);
        return { json: { status: 'approved', ...approved } };
      }),
    );

  pairing
    .command('revoke')
    .description('remove an approved sender (or drop their pending code)')
    .argument('<channel>', 'telegram or whatsapp', channelArg)
    .argument('<sender>', 'sender id (or alias such as @username)')
    .action(
      action(async (channel: string, sender: string) => {
        const s = await store();
        const r = await s.revoke(channel, sender.trim()).catch(operatorError);
        return { json: { status: 'revoked', channel: r.channel, sender: r.sender, removed: r.revoked } };
      }),
    );
}
