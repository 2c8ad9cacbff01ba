/**
 * What a caller may see of another user, shared by every read service (query, history): the caller
 * is `self` for their own user and `others` for anyone else; a room member's lastSeen is shown only
 * to that member or where the member's last-seen privacy is exact.
 */
import { readRoomView, type LastSeenPrivacy, type PresenceConfig, type RoomView, type Viewer } from '../core';

/** The viewer class of `callerId` reading `userId`. */
export const viewerOf = (callerId: string, userId: string): Viewer => (callerId === userId ? 'self' : 'others');

export interface RoomBody {
  readonly roomKind: string;
  readonly roomId: string;
  /** lastSeen is null for a member other than the caller whose last-seen privacy is not exact. */
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
 * `callerId` sees every member's lastSeen only where that member's `privacyOf` is exact (or it is
 * the caller's own session).
 */
export function roomBody(
  roomKind: string, roomId: string, view: RoomView | undefined, now: number, cfg: PresenceConfig,
  callerId: string, privacyOf: (userId: string) => LastSeenPrivacy,
): RoomBody {
  const v = readRoomView(view ?? null, now, cfg);
  return {
    roomKind, roomId,
    members: (v?.members ?? []).map((m) => ({
      userId: m.userId, sessionId: m.sessionId, joinedAt: m.joinedAt,
      lastSeen: m.userId === callerId || privacyOf(m.userId) === 'exact' ? m.lastSeen : null, metadata: m.metadata,
      ephemeral: m.ephemeral ?? null,
    })),
  };
}

