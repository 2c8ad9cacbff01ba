/**
 * `presence gate <user> <channel>`: the query service's synchronous gate check (GET /v1/gate), the
 * same core rule the notification-gate consumer applies to notification.request.v1. With
 * QUERY_GATE_CALLERS set, CLI_SUBJECT must be listed; otherwise the decision is on what the
 * CLI's subject may see (an invisible user reads Offline).
 */
import type { CliCommand } from '../args';
import type { GateBody } from '../query-client';
import { formatTable } from '../table';
import type { CommandContext } from './context';

export async function runGate(cmd: Extract<CliCommand, { name: 'gate' }>, ctx: CommandContext): Promise<void> {
  const body = await ctx.query().gate(cmd.user, cmd.channel, cmd.bypassDnd);
  const answer = { userId: cmd.user, channel: cmd.channel, bypassDoNotDisturb: cmd.bypassDnd, ...body };
  ctx.out.document(answer, () => gateTable(answer));
}

export function gateTable(a: GateBody & { userId: string; channel: string; bypassDoNotDisturb: boolean }): string {
  return formatTable(
    [{ header: 'USER' }, { header: 'CHANNEL' }, { header: 'DELIVER' }, { header: 'REASON' }, { header: 'STATUS' }, { header: 'KNOWN' }],
    [[a.userId, a.channel + (a.bypassDoNotDisturb ? ' (bypass DND)' : ''), a.deliver ? 'yes' : 'no', a.reason, a.status, a.userKnown ? 'yes' : 'no']],
  );
}
