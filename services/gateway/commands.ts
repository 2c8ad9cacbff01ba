/**
 * What a client may ask the gateway to publish, pure: a WebSocket frame or an HTTP body becomes a
 * core event checked by the core's hygiene (so the field names in errors are the ones the client
 * sent), stamped with the gateway's clock. The user is always the token's `sub`: a body naming
 * another user is refused, never published. So is the audit's actor: every override and setting is
 * stamped `{ kind: 'user', id: sub }`, and a body or frame carrying an `actor` of its own is refused
 * (400 / an error frame naming `actor`) rather than silently replaced, so a client that believes it
 * can set one learns at once that it cannot. The `reason` is the client's own note.
 */
import {
  checkRoomEvent,
  checkUserEvent,
  roomKey,
  type Checked,
  type PresenceConfig,
  type Rejection,
  type RoomEvent,
  type UserEvent,
} from '../core';

/** Frame types a socket may send; its own close is the disconnect. */
export const SOCKET_COMMANDS = ['heartbeat', 'override', 'visibility', 'lastSeenPrivacy', 'activity', 'join', 'leave', 'roomHeartbeat', 'ephemeral'] as const;
export type SocketCommand = (typeof SOCKET_COMMANDS)[number];
/** Frames that change what the socket follows (subscriptions.ts), not published. */
export const SUBSCRIPTION_FRAMES = ['subscribe', 'unsubscribe'] as const;
export type SubscriptionFrame = (typeof SUBSCRIPTION_FRAMES)[number];
const FRAME_TYPES: readonly string[] = [...SOCKET_COMMANDS, ...SUBSCRIPTION_FRAMES];
/** HTTP clients cannot close a socket, so they say so. */
export type Command = SocketCommand | 'disconnect';

export type GatewayEvent = { readonly kind: 'user'; readonly event: UserEvent } | { readonly kind: 'room'; readonly event: RoomEvent };

/** Who sends: the caller from the token; for a socket, also its connection's session. */
export interface Sender {
  readonly userId: string;
  readonly session?: { readonly deviceId: string; readonly sessionId: string; readonly platform: string };
}

type Raw = Readonly<Record<string, unknown>>;

const reject = (code: Rejection['code'], field: string, reason: string): { ok: false; rejection: Rejection } => ({ ok: false, rejection: { code, field, reason } });

/** The caller may only speak for itself. */
function ownUser(body: Raw, sender: Sender): Rejection | null {
  const named = body['userId'];
  if (named === undefined || named === null || named === sender.userId) return null;
  return { code: 'not-allowed', field: 'userId', reason: 'a client publishes only for its own user (the token subject)' };
}

/** The actor is the gateway's to state, from the token: a client never names one. */
function noActor(body: Raw): Rejection | null {
  if (body['actor'] === undefined) return null;
  return { code: 'not-allowed', field: 'actor', reason: 'the gateway stamps the actor from the token; a client may not set it' };
}

/**
 * Builds the event of `command` from `body`. For a socket the session fields come from the
 * connection and cannot be overridden by the frame; over HTTP they come from the body (platform
 * defaults to "other"). Timestamps are the gateway's `now`; `eventId` orders overrides set at the
 * same millisecond.
 */
export function commandEvent(command: Command, body: Raw, sender: Sender, now: number, eventId: string, cfg: PresenceConfig): Checked<GatewayEvent> {
  const notOwn = ownUser(body, sender);
  if (notOwn) return { ok: false, rejection: notOwn };
  const session = sender.session ?? { deviceId: body['deviceId'], sessionId: body['sessionId'], platform: body['platform'] ?? 'other' };
  const user = (raw: Raw): Checked<GatewayEvent> => {
    const c = checkUserEvent(raw, now, cfg);
    return c.ok ? { ok: true, event: { kind: 'user', event: c.event } } : c;
  };
  const room = (raw: Raw): Checked<GatewayEvent> => {
    const c = checkRoomEvent(raw, now, cfg);
    return c.ok ? { ok: true, event: { kind: 'room', event: c.event } } : c;
  };
  const audit = (): Raw => ({ actor: { kind: 'user', id: sender.userId }, reason: body['reason'] });
  const setting = (raw: Raw): Checked<GatewayEvent> => {
    const claimed = noActor(body);
    return claimed ? { ok: false, rejection: claimed } : user({ ...raw, ...audit() });
  };
  switch (command) {
    case 'heartbeat':
      return user({ type: 'heartbeat', userId: sender.userId, ...session, observedAt: now, idleMs: body['idleMs'] ?? 0 });
    case 'disconnect':
      return user({ type: 'disconnect', userId: sender.userId, ...session, observedAt: now });
    case 'override':
      return setting({ type: 'override', userId: sender.userId, status: body['status'], customText: body['customText'], expiresAt: body['expiresAt'], setAt: now, eventId });
    case 'visibility':
      return setting({ type: 'visibility', userId: sender.userId, visibility: body['visibility'], setAt: now, eventId });
    case 'lastSeenPrivacy':
      return setting({ type: 'lastSeenPrivacy', userId: sender.userId, lastSeenPrivacy: body['lastSeenPrivacy'], setAt: now, eventId });
    case 'activity':
      // The user's own activity; source defaults to manual (a client may also clear, or set, another source's register of its own user).
      return setting({
        type: 'activity', userId: sender.userId, source: body['source'] ?? 'manual', activity: body['activity'], customText: body['customText'], emoji: body['emoji'],
        expiresAt: body['expiresAt'], setAt: now, eventId,
      });
    case 'join':
    case 'roomHeartbeat':
    case 'leave':
      return room({
        type: command, roomKind: body['roomKind'], roomId: body['roomId'], userId: sender.userId, sessionId: session.sessionId,
        observedAt: now, metadata: command === 'leave' ? null : body['metadata'],
      });
    case 'ephemeral':
      // What the session is doing in the room (typing); null clears it. The field names are the wire's.
      return room({
        type: 'ephemeral', roomKind: body['roomKind'], roomId: body['roomId'], userId: sender.userId, sessionId: session.sessionId,
        observedAt: now, ephemeral: body['ephemeral'], ephemeralTtlMs: body['ephemeralTtlMs'],
      });
  }
}

/** A parsed socket frame: the command, its body, and the client's correlation id to echo back. */
export interface Frame {
  readonly command: SocketCommand | SubscriptionFrame;
  readonly body: Raw;
  readonly id: string | number | null;
}

const MAX_FRAME_ID_LENGTH = 64;

/** Parses one text frame: `{"type": "...", "id"?: ..., ...fields}`. Never throws. */
export function parseFrame(text: string): { ok: true; frame: Frame } | { ok: false; rejection: Rejection; id: string | number | null } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ...reject('wrong-type', '(frame)', `must be a JSON object: ${(e as Error).message}`), id: null };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ...reject('not-an-object', '(frame)', 'must be a JSON object'), id: null };
  const body = json as Raw;
  const rawId = body['id'];
  let id: string | number | null = null;
  if (rawId !== undefined && rawId !== null) {
    const fine = (typeof rawId === 'string' && rawId.length <= MAX_FRAME_ID_LENGTH) || (typeof rawId === 'number' && Number.isSafeInteger(rawId));
    if (!fine) return { ...reject('wrong-type', 'id', `must be a string of at most ${MAX_FRAME_ID_LENGTH} characters or an integer`), id: null };
    id = rawId as string | number;
  }
  const type = body['type'];
  if (typeof type !== 'string' || !FRAME_TYPES.includes(type)) {
    return { ...reject(type === undefined ? 'missing' : 'unknown-type', 'type', `must be one of ${FRAME_TYPES.join(', ')}`), id };
  }
  return { ok: true, frame: { command: type as SocketCommand | SubscriptionFrame, body, id } };
}

/** The room key of a room event (the Kafka key, and how a session remembers its rooms). */
export function roomOf(e: RoomEvent): string {
  return roomKey(e.roomKind, e.roomId);
}
