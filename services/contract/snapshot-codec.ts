/**
 * The one mapping between the core's views and the snapshot records on the wire: the processor
 * writes with `toSnapshot`, every reader (query, gate) reads with `viewFromSnapshot`.
 */
import type { MemberView, RoomView, UserView } from '../core';
import type { ActivityView, Device, PresenceSnapshot, RoomSnapshot } from './avro-types';

const NO_ACTIVITIES: readonly ActivityView[] = Object.freeze([]);

export function toSnapshot(view: UserView, now: number): PresenceSnapshot {
  return {
    userId: view.userId,
    status: view.status,
    statusSince: view.statusSince,
    lastSeen: view.lastSeen,
    lastActive: view.lastActive,
    // The view's override, activities and devices have exactly their records' fields, and a snapshot
    // is only encoded: they are passed as they are, not copied per snapshot.
    override: view.override,
    activities: (view.activities ?? NO_ACTIVITIES) as ActivityView[],
    visibility: view.visibility,
    lastSeenPrivacy: view.lastSeenPrivacy,
    devices: view.devices as Device[],
    version: view.version,
    emittedAt: now,
    offlineAt: view.offlineAt ?? null,
  };
}

export function toRoomSnapshot(view: RoomView, now: number): RoomSnapshot {
  return {
    roomKind: view.roomKind,
    roomId: view.roomId,
    members: view.members.map((m) => ({
      userId: m.userId, sessionId: m.sessionId, joinedAt: m.joinedAt, lastSeen: m.lastSeen, metadata: { ...(m.metadata ?? {}) }, ephemeral: m.ephemeral ?? null,
    })),
    version: view.version,
    emittedAt: now,
  };
}

export function viewFromSnapshot(s: PresenceSnapshot): UserView {
  return {
    userId: s.userId,
    status: s.status,
    statusSince: s.statusSince,
    lastSeen: s.lastSeen,
    lastActive: s.lastActive,
    override: s.override && { status: s.override.status, customText: s.override.customText, expiresAt: s.override.expiresAt },
    // Absent rather than empty (records written before activities existed decode with []), as the core writes it.
    ...((s.activities ?? []).length > 0
      ? { activities: s.activities.map((a) => ({ activity: a.activity, source: a.source, customText: a.customText ?? null, emoji: a.emoji ?? null, expiresAt: a.expiresAt ?? null, setAt: a.setAt })) }
      : {}),
    visibility: s.visibility,
    lastSeenPrivacy: s.lastSeenPrivacy,
    // Records written before gatewayId/active existed decode with the schema defaults (null, true).
    devices: s.devices.map((d) => ({ deviceId: d.deviceId, sessionId: d.sessionId, platform: d.platform, gatewayId: d.gatewayId ?? null, active: d.active ?? true })),
    version: s.version,
    emittedAt: s.emittedAt,
    // Absent rather than null when not written, so a view read back equals the view written.
    ...(s.offlineAt !== null && s.offlineAt !== undefined ? { offlineAt: s.offlineAt } : {}),
  };
}

export function roomViewFromSnapshot(s: RoomSnapshot): RoomView {
  return {
    roomKind: s.roomKind,
    roomId: s.roomId,
    members: s.members.map((m): MemberView => {
      const member = { userId: m.userId, sessionId: m.sessionId, joinedAt: m.joinedAt, lastSeen: m.lastSeen, metadata: m.metadata };
      // Absent rather than null when none, as the core's roomView writes it.
      return m.ephemeral == null ? member : { ...member, ephemeral: { state: m.ephemeral.state, target: m.ephemeral.target, expiresAt: m.ephemeral.expiresAt } };
    }),
    version: s.version,
    emittedAt: s.emittedAt,
  };
}
