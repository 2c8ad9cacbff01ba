/** `presence status <user>...`: one batch read of the query service, a row per user in the order asked. */
import type { PresenceBody } from '../../query/read-model';
import type { CliCommand } from '../args';
import { formatInstant, formatTable } from '../table';
import type { CommandContext } from './context';

export async function runStatus(cmd: Extract<CliCommand, { name: 'status' }>, ctx: CommandContext): Promise<void> {
  const answer = await ctx.query().batchGet(cmd.users);
  ctx.out.document(answer, () => statusTable(answer.presences, ctx.clock()));
}

/** The manual status as one cell: `DoNotDisturb until … "text"`. */
export function overrideCell(o: PresenceBody['override'], now: number): string {
  if (o === null) return '';
  const until = o.expiresAt === null ? '' : ` until ${formatInstant(o.expiresAt, now)}`;
  const text = o.customText === null ? '' : ` ${JSON.stringify(o.customText)}`;
  return `${o.status}${until}${text}`;
}

export function statusTable(presences: readonly PresenceBody[], now: number): string {
  return formatTable(
    [{ header: 'USER' }, { header: 'STATUS' }, { header: 'SINCE' }, { header: 'LAST SEEN' }, { header: 'OVERRIDE' }, { header: 'DEVICES', align: 'right' }],
    presences.map((p) => [
      p.userId, p.status, formatInstant(p.statusSince, now), p.lastSeen === null ? (p.lastSeenApprox ?? '') : formatInstant(p.lastSeen, now),
      overrideCell(p.override, now), String(p.devices.length),
    ]),
  );
}
