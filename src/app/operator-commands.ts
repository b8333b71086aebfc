// Operator approvals from chat: `/approve <token>`, `/reject <token> [reason]` and `/pending`
// decide Pulse approvals (every kind: tools, OODA actions, skill promotions) — but only in the
// operator's own chats (RUSTY_PINCH_OPERATOR_CHATS). From any other chat the text is an
// ordinary turn, never an approval.
import { errorChain } from '../kernel/index.js';
import { emitEvent } from '../observe/index.js';
import type { TurnHandler } from '../channels/index.js';
import type { PulseService } from '../pulse/index.js';

const COMMAND = /^\/(approve|reject|pending)(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/;

export interface OperatorCommandDeps {
  operatorChats: readonly string[];
  pulse: () => Promise<Pick<PulseService, 'approve' | 'reject' | 'status'>>;
}

/** Wraps a channel's turn handler with the operator's approval commands. */
export function withOperatorCommands(deps: OperatorCommandDeps, inner: TurnHandler): TurnHandler {
  const operators = new Set(deps.operatorChats);
  return async (input) => {
    const m = COMMAND.exec(input.text.trim());
    if (!m || !operators.has(`${input.channel}:${input.chatId}`)) return inner(input);
    const command = m[1] as 'approve' | 'reject' | 'pending';
    const rest = (m[2] ?? '').trim();
    let text: string;
    let status = 'ok';
    try {
      text = await run(await deps.pulse(), command, rest);
    } catch (err) {
      status = 'error';
      text = `${command} failed: ${errorChain(err)}`;
    }
    emitEvent('operator_command', { channel: input.channel, chat_id: input.chatId, command, status });
    return { status: 'ok', text };
  };
}

async function run(pulse: Pick<PulseService, 'approve' | 'reject' | 'status'>, command: 'approve' | 'reject' | 'pending', rest: string): Promise<string> {
  if (command === 'pending') {
    const pending = (pulse.status().pending_approvals ?? []) as Array<{ token: string; action: string; risk: string; expires_at: string }>;
    if (pending.length === 0) return 'No approvals are pending.';
    return [`${pending.length} pending:`, ...pending.map((a) => `• ${a.token} (${a.risk}, expires ${a.expires_at})\n  ${a.action.split('\n')[0]}`)].join('\n');
  }
  const [token, ...why] = rest.split(/\s+/);
  if (!token) return `usage: /${command} TOKEN${command === 'reject' ? ' [reason]' : ''} (tokens: /pending)`;
  if (command === 'approve') {
    const r = await pulse.approve(token);
    const outcome = r.approval.outcome as { status?: string; message?: string } | undefined;
    return `Approved ${token}: ${String(r.approval.action).split('\n')[0]}\n${outcome ? `${outcome.status}: ${outcome.message}` : ''}`.trim();
  }
  const r = await pulse.reject(token, why.join(' ') || 'rejected by the operator from chat');
  return `Rejected ${token}: ${String(r.approval.action).split('\n')[0]}`;
}
