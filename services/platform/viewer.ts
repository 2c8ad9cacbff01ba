/**
 * What a caller may see of another user, shared by every read service (query, history): the viewer
 * class is the core's viewerOf (`self`, `contact` when the caller is in the user's contact list,
 * `others`); a room member's lastSeen is shown to that member, or where the member is visible to the
 * caller (visibleTo: not `nobody`, not `contacts` unless the caller is a contact) and their last-seen
 * privacy is exact.
 */
import { readRoomView, visibleTo, type LastSeenPrivacy, type PresenceConfig, type RoomView, type Viewer, type Visibility } from '../core';

export { viewerOf } from '../core';

/** What a room body needs to know of a member (from their snapshot; unknown: everyone, exact). */
export interface MemberSettings {
  readonly visibility: Visibility;
  readonly lastSeenPrivacy: LastSeenPrivacy;
}

/** Whether `viewer` sees a member's exact times (their room lastSeen). */
export function memberTimesShown(settings: MemberSettings | undefined, viewer: Viewer): boolean {
  if (viewer === 'self') return true;
  return settings === undefined || (visibleTo(settings.visibility, viewer) && settings.lastSeenPrivacy === 'exact');
}

export interface RoomBody {
  readonly roomKind: string;
  readonly roomId: string;
  /** lastSeen is null for a member other than the caller who is hidden from the caller or whose last-seen privacy is not exact. */
  readonly members: readonly RoomMemberBody[];
}

export interface RoomMemberBody {
  readonly userId: string;
  readonly sessionId: string;
  readonly joinedAt: number;
  readonly lastSeen: number | null;
  readonly metadata: Readonly<Record<string, string>>;
  /** What the member is doing right now (typing) until expiresAt, or null. */
  readonly ephemeral: { readonly state: string; readonly target: string | null; readonly expiresAt: number } | null;
}

/**
 * An empty or unknown room is an empty member list (a room exists only while someone is in it).
 * `callerId` sees a member's lastSeen only where `timesShown(memberId)` (memberTimesShown with the
 * caller's viewer class of that member), or for the caller's own sessions.
 */
export function roomBody(
  roomKind: string, roomId: string, view: RoomView | undefined, now: number, cfg: PresenceConfig,
  callerId: string, timesShown: (userId: string) => boolean,
): RoomBody {
  const v = readRoomView(view ?? null, now, cfg);
  return {
    roomKind, roomId,
    members: (v?.members ?? []).map((m) => ({
      userId: m.userId, sessionId: m.sessionId, joinedAt: m.joinedAt,
      lastSeen: m.userId === callerId || timesShown(m.userId) ? m.lastSeen : null, metadata: m.metadata,
      ephemeral: m.ephemeral ?? null,
    })),
  };
}

