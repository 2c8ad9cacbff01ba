/**
 * `presence visibility <user> <everyone|contacts|nobody>`: publishes the visibility setting
 * (kind=visibility) to presence.override.v1. Those are the Visibility schema's settings; to anyone
 * but the user (and, for contacts, the users in their contact list), a hidden user reads Offline.
 */
import type { CliCommand } from '../args';
import type { CommandContext } from './context';
import { checkedEvent, publishEvent } from './publish';

export async function runVisibility(cmd: Extract<CliCommand, { name: 'visibility' }>, ctx: CommandContext): Promise<void> {
  const now = ctx.clock();
  const event = checkedEvent({ type: 'visibility', userId: cmd.user, visibility: cmd.visibility, reason: cmd.reason }, now, ctx);
  if (event.type !== 'visibility') throw new Error('unreachable: the core returned another event type');
  const topic = await publishEvent(event, ctx);
  const published = { topic, kind: 'visibility', userId: event.userId, visibility: event.visibility, setAt: event.setAt, eventId: event.eventId, actor: event.actor ?? null, reason: event.reason ?? null };
  ctx.out.document(published, () => `${event.userId}: visible to ${event.visibility === 'everyone' ? 'everyone' : event.visibility === 'contacts' ? 'their contacts only (others read Offline)' : 'nobody but themselves (others read Offline)'} (published to ${topic}, event ${event.eventId})\n`);
}
