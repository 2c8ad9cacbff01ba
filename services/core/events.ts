import type { ActivitySet } from './activity';

/** What readers see: the status computed by the rules. */
export type EffectiveStatus = 'Online' | 'Away' | 'Busy' | 'DoNotDisturb' | 'Offline';
/** What a user may set by hand. */
export type OverrideStatus = 'Available' | 'Busy' | 'DoNotDisturb' | 'AppearOffline';
/** Who may see the user: everyone, the user's contacts (presence.contacts.v1), or nobody but the user. */
export type Visibility = 'everyone' | 'contacts' | 'nobody';
/** How others see a user's last-seen times: exactly, as a coarse bucket, or not at all. */
export type LastSeenPrivacy = 'exact' | 'coarse' | 'hidden';
export type Platform = 'web' | 'desktop' | 'ios' | 'android' | 'other';

export const EFFECTIVE_STATUSES: readonly EffectiveStatus[] = ['Online', 'Away', 'Busy', 'DoNotDisturb', 'Offline'];
export const OVERRIDE_STATUSES: readonly OverrideStatus[] = ['Available', 'Busy', 'DoNotDisturb', 'AppearOffline'];
export const VISIBILITIES: readonly Visibility[] = ['everyone', 'contacts', 'nobody'];
export const LAST_SEEN_PRIVACIES: readonly LastSeenPrivacy[] = ['exact', 'coarse', 'hidden'];
export const PLATFORMS: readonly Platform[] = ['web', 'desktop', 'ios', 'android', 'other'];
/** Who made a change: the user (a gateway stamps it from the token), an admin, or an integration. */
export type ActorKind = 'user' | 'admin' | 'integration';
export const ACTOR_KINDS: readonly ActorKind[] = ['user', 'admin', 'integration'];

/** Who set an override or a setting, for the audit. */
export interface Actor {
  readonly kind: ActorKind;
  readonly id: string;
}

/**
 * The audit of a register write: who made it and why. Present only when known (events written
 * before it existed have neither); it is content, never part of the order key (setAt, eventId).
 */
export interface Audit {
  readonly actor?: Actor;
  readonly reason?: string;
}

/** Small, opaque, PII-free room member metadata (bounded by hygiene). */
export type Metadata = Readonly<Record<string, string>>;

/** A device (tab, app) reported it is connected, and how long it has been idle. Keyed by userId. */
export interface HeartbeatReceived {
  readonly type: 'heartbeat';
  readonly userId: string;
  readonly deviceId: string;
  readonly sessionId: string;
  readonly platform: Platform;
  /** Epoch ms, stamped by the gateway. */
  readonly observedAt: number;
  /** How long this device has been idle at observedAt. */
  readonly idleMs: number;
  /**
   * The gateway that published it (absent or null: unknown). The session remembers the gateway of
   * its latest heartbeat, so that a gateway whose lease ran out can have its sessions ended
   * (endGatewaySessions).
   */
  readonly gatewayId?: string | null;
}

/** A session disconnected cleanly (socket closed, logout). Keyed by userId. */
export interface SessionDisconnected {
  readonly type: 'disconnect';
  readonly userId: string;
  readonly deviceId: string;
  readonly sessionId: string;
  readonly platform: Platform;
  readonly observedAt: number;
}

/** A manual status was set: a last-writer-wins register ordered by (setAt, eventId). */
export interface OverrideSet extends Audit {
  readonly type: 'override';
  readonly userId: string;
  readonly status: OverrideStatus;
  readonly customText: string | null;
  /** Epoch ms after which the override no longer applies (evaluated against the clock); null = never. */
  readonly expiresAt: number | null;
  readonly setAt: number;
  readonly eventId: string;
}

/** Visibility was set: a last-writer-wins register of its own, ordered by (setAt, eventId). */
export interface VisibilitySet extends Audit {
  readonly type: 'visibility';
  readonly userId: string;
  readonly visibility: Visibility;
  readonly setAt: number;
  readonly eventId: string;
}

/** The last-seen privacy setting was set: a last-writer-wins register of its own, like visibility. */
export interface LastSeenPrivacySet extends Audit {
  readonly type: 'lastSeenPrivacy';
  readonly userId: string;
  readonly lastSeenPrivacy: LastSeenPrivacy;
  readonly setAt: number;
  readonly eventId: string;
}

export type UserEvent = HeartbeatReceived | SessionDisconnected | OverrideSet | VisibilitySet | LastSeenPrivacySet | ActivitySet;

interface RoomEventBase {
  readonly roomKind: string;
  readonly roomId: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly observedAt: number;
}

/** A session joined a room. Keyed by room key `${roomKind}/${roomId}`. */
export interface RoomJoined extends RoomEventBase {
  readonly type: 'join';
  readonly metadata: Metadata | null;
}
/** A session in a room is still there; metadata null = unchanged. */
export interface RoomHeartbeatReceived extends RoomEventBase {
  readonly type: 'roomHeartbeat';
  readonly metadata: Metadata | null;
}
/** A session left a room. */
export interface RoomLeft extends RoomEventBase {
  readonly type: 'leave';
  readonly metadata: null;
}
/** The session itself ended; it leaves the room. */
export interface RoomSessionEnded extends RoomEventBase {
  readonly type: 'sessionEnded';
  readonly metadata: null;
}
/** What a member is doing right now in a room (typing, editing a field): a short token, PII-free. */
export interface Ephemeral {
  readonly state: string;
  readonly target: string | null;
}
/**
 * A session in a room is still there and sets its short-lived state (null clears it) until
 * observedAt + ttlMs (hygiene bounds ttlMs by maxRoomEphemeralTtlMs and fills the default).
 */
export interface RoomEphemeralSet extends RoomEventBase {
  readonly type: 'ephemeral';
  readonly metadata: null;
  readonly ephemeral: Ephemeral | null;
  readonly ttlMs: number;
}

export type RoomEvent = RoomJoined | RoomHeartbeatReceived | RoomLeft | RoomSessionEnded | RoomEphemeralSet;
export type RoomEventType = RoomEvent['type'];
export const ROOM_EVENT_TYPES: readonly RoomEventType[] = ['join', 'roomHeartbeat', 'leave', 'sessionEnded', 'ephemeral'];
export const USER_EVENT_TYPES: readonly UserEvent['type'][] = ['heartbeat', 'disconnect', 'override', 'visibility', 'lastSeenPrivacy', 'activity'];

/** The Kafka key of a room. roomKind never contains '/', so the key splits at its first '/'. */
export function roomKey(roomKind: string, roomId: string): string {
  return `${roomKind}/${roomId}`;
}

/** Thrown only from switch defaults the compiler proves unreachable. */
export function unreachable(value: never): never {
  throw new Error(`unreachable: ${String(value)}`);
}
