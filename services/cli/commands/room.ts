/** `presence room <kind>/<id>`: the room's members from the query service (an empty room has none). */
import type { RoomBody } from '../../query/read-model';
import type { CliCommand } from '../args';
import { formatInstant, formatTable } from '../table';
import type { CommandContext } from './context';

export async function runRoom(cmd: Extract<CliCommand, { name: 'room' }>, ctx: CommandContext): Promise<void> {
  const room = await ctx.query().room(cmd.kind, cmd.id);
  ctx.out.document(room, () => roomTable(room, ctx.clock()));
}

export function roomTable(room: RoomBody, now: number): string {
  if (room.members.length === 0) return `room ${room.roomKind}/${room.roomId}: no members\n`;
  return `room ${room.roomKind}/${room.roomId}: ${room.members.length} member${room.members.length === 1 ? '' : 's'}\n` + formatTable(
    [{ header: 'USER' }, { header: 'SESSION' }, { header: 'JOINED' }, { header: 'LAST SEEN' }, { header: 'METADATA' }],
    room.members.map((m) => [
      m.userId, m.sessionId, formatInstant(m.joinedAt, now), formatInstant(m.lastSeen, now),
      Object.entries(m.metadata).map(([k, v]) => `${k}=${v}`).join(' '),
    ]),
  );
}
