/**
 * `presence set <user> <status> [--for 1h] [--text …]`: publishes a manual status (kind=status) to
 * presence.override.v1. `clear` and `available` publish Available, which clears the override.
 */
import type { CliCommand } from '../args';
import { formatInstant } from '../table';
import type { CommandContext } from './context';
import { checkedEvent, publishEvent } from './publish';

export async function runSet(cmd: Extract<CliCommand, { name: 'set' }>, ctx: CommandContext): Promise<void> {
  const now = ctx.clock();
  const event = checkedEvent({
    type: 'override', userId: cmd.user, status: cmd.status, customText: cmd.text, expiresAt: cmd.forMs === null ? null : now + cmd.forMs, reason: cmd.reason,
  }, now, ctx);
  if (event.type !== 'override') throw new Error('unreachable: the core returned another event type');
  const topic = await publishEvent(event, ctx);
  const published = { topic, kind: 'status', userId: event.userId, status: event.status, customText: event.customText, expiresAt: event.expiresAt, setAt: event.setAt, eventId: event.eventId, actor: event.actor ?? null, reason: event.reason ?? null };
  ctx.out.document(published, () => {
    const until = event.expiresAt === null ? (event.status === 'Available' ? ' (manual status cleared)' : ' until changed') : ` until ${formatInstant(event.expiresAt, now)}`;
    const text = event.customText === null ? '' : ` ${JSON.stringify(event.customText)}`;
    return `${event.userId}: ${event.status}${until}${text} (published to ${topic}, event ${event.eventId})\n`;
  });
}
