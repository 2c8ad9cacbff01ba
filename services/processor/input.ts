/**
 * From decoded wire records to the core's checked events: the wire schema's `kind` becomes the
 * event `type`, the key must match what the record says (a record keyed wrongly would live on
 * another partition's state), and hygiene has the last word.
 */
import { checkRoomEventAs, checkUserEventAs, type Checked, type PresenceConfig, type RoomEvent, type UserEvent } from '../core';
import type { PresenceHeartbeat, PresenceOverride, RoomEvent as WireRoomEvent } from '../contract/avro-types';

const keyMismatch = (field: string, key: string | null) => ({
  ok: false as const,
  rejection: { code: 'not-allowed' as const, field: 'key', reason: `record key ${JSON.stringify(key)} does not match ${field}` },
});

export function heartbeatEvent(wire: PresenceHeartbeat, key: string | null, now: number, cfg: PresenceConfig): Checked<UserEvent> {
  if (key !== wire.userId) return keyMismatch('userId', key);
  return checkUserEventAs(wire.kind, wire, now, cfg); // the wire's kind is the event type
}

export function overrideEvent(wire: PresenceOverride, key: string | null, now: number, cfg: PresenceConfig): Checked<UserEvent> {
  if (key !== wire.userId) return keyMismatch('userId', key);
  const type = wire.kind === 'status' ? 'override' : wire.kind === 'visibility' ? 'visibility' : 'lastSeenPrivacy';
  return checkUserEventAs(type, wire, now, cfg);
}

export function roomEvent(wire: WireRoomEvent, key: string | null, now: number, cfg: PresenceConfig): Checked<RoomEvent> {
  if (key !== `${wire.roomKind}/${wire.roomId}`) return keyMismatch('roomKind/roomId', key);
  return checkRoomEventAs(wire.kind === 'heartbeat' ? 'roomHeartbeat' : wire.kind, wire, now, cfg);
}
