/**
 * From decoded wire records to the core's checked events: the wire schema's `kind` becomes the
 * event `type`, the key must match what the record says (a record keyed wrongly would live on
 * another partition's state), and hygiene has the last word.
 */
import { checkRoomEventAs, checkUserEvent, checkUserEventAs, unreachable, type Checked, type PresenceConfig, type RoomEvent, type UserEvent } from '../core';
import { internGatewayId } from './gateway-ids';
import type { PresenceHeartbeat, PresenceOverride, RoomEvent as WireRoomEvent } from '../contract/avro-types';

const keyMismatch = (field: string, key: string | null) => ({
  ok: false as const,
  rejection: { code: 'not-allowed' as const, field: 'key', reason: `record key ${JSON.stringify(key)} does not match ${field}` },
});

export function heartbeatEvent(wire: PresenceHeartbeat, key: string | null, now: number, cfg: PresenceConfig): Checked<UserEvent> {
  if (key !== wire.userId) return keyMismatch('userId', key);
  const checked = checkUserEventAs(wire.kind, wire, now, cfg); // the wire's kind is the event type
  // The checked event is a fresh literal: its gateway id becomes the shared copy (gateway-ids.ts).
  if (checked.ok && checked.event.type === 'heartbeat' && checked.event.gatewayId !== undefined) {
    (checked.event as { gatewayId?: string | null }).gatewayId = internGatewayId(checked.event.gatewayId);
  }
  return checked;
}

export function overrideEvent(wire: PresenceOverride, key: string | null, now: number, cfg: PresenceConfig): Checked<UserEvent> {
  if (key !== wire.userId) return keyMismatch('userId', key);
  switch (wire.kind) {
    case 'status': return checkUserEventAs('override', wire, now, cfg);
    case 'visibility': return checkUserEventAs('visibility', wire, now, cfg);
    case 'lastSeen': return checkUserEventAs('lastSeenPrivacy', wire, now, cfg);
    case 'activity': {
      // The activity's fields travel in `activity` (ActivityUpdate); the register write's order key and audit at the top.
      const { activity: a, customText: _t, expiresAt: _e, ...rest } = wire;
      if (a === null || a === undefined) return { ok: false, rejection: { code: 'missing', field: 'activity', reason: 'kind activity needs the activity record (source, activity, ...)' } };
      return checkUserEvent({ ...rest, type: 'activity', source: a.source, activity: a.activity, customText: a.customText, emoji: a.emoji, expiresAt: a.expiresAt }, now, cfg);
    }
    default: return unreachable(wire.kind);
  }
}

export function roomEvent(wire: WireRoomEvent, key: string | null, now: number, cfg: PresenceConfig): Checked<RoomEvent> {
  if (key !== `${wire.roomKind}/${wire.roomId}`) return keyMismatch('roomKind/roomId', key);
  return checkRoomEventAs(wire.kind === 'heartbeat' ? 'roomHeartbeat' : wire.kind, wire, now, cfg);
}
