import type { PresenceConfig } from './config';
import type {
  Actor,
  ActorKind,
  Audit,
  Ephemeral,
  HeartbeatReceived,
  LastSeenPrivacy,
  LastSeenPrivacySet,
  Metadata,
  OverrideSet,
  OverrideStatus,
  Platform,
  RoomEvent,
  SessionDisconnected,
  UserEvent,
  Visibility,
  VisibilitySet,
} from './events';
import { ACTOR_KINDS, LAST_SEEN_PRIVACIES, OVERRIDE_STATUSES, PLATFORMS, ROOM_EVENT_TYPES, USER_EVENT_TYPES, VISIBILITIES } from './events';
import { ACTIVITY_SOURCES, ACTIVITY_TYPES, MAX_ACTIVITY_EMOJI_LENGTH, type ActivitySet, type ActivitySource, type ActivityType } from './activity';

export type RejectionCode =
  | 'not-an-object'
  | 'unknown-type'
  | 'missing'
  | 'wrong-type'
  | 'empty'
  | 'too-long'
  | 'invalid-character'
  | 'not-an-integer'
  | 'negative'
  | 'not-allowed'
  | 'too-many-entries'
  | 'too-large'
  | 'invalid-range';

/** Why an input was refused, naming the field (dotted for nested, e.g. `metadata.color`). */
export interface Rejection {
  readonly code: RejectionCode;
  readonly field: string;
  readonly reason: string;
}

export type Checked<T> = { readonly ok: true; readonly event: T } | { readonly ok: false; readonly rejection: Rejection };

// C0 and C1 control characters, DEL.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

class Reject {
  constructor(readonly rejection: Rejection) {}
}
function fail(code: RejectionCode, field: string, reason: string): never {
  throw new Reject({ code, field, reason });
}

type Raw = Readonly<Record<string, unknown>>;

/**
 * The id rule every service applies (non-blank, at most maxIdLength UTF-16 units, no control
 * characters) to a string already known to be one; null when it is fine.
 */
export function idRejection(field: string, v: string, cfg: PresenceConfig): Rejection | null {
  if (v.trim().length === 0) return { code: 'empty', field, reason: 'must not be empty or blank' };
  if (v.length > cfg.maxIdLength) return { code: 'too-long', field, reason: `must be at most ${cfg.maxIdLength} characters` };
  if (CONTROL.test(v)) return { code: 'invalid-character', field, reason: 'must not contain control characters' };
  return null;
}

function id(raw: Raw, field: string, cfg: PresenceConfig): string {
  const v = raw[field];
  if (v === undefined || v === null) fail('missing', field, 'is required');
  if (typeof v !== 'string') fail('wrong-type', field, 'must be a string');
  const bad = idRejection(field, v, cfg);
  if (bad) throw new Reject(bad);
  return v;
}

function integer(raw: Raw, field: string): number {
  const v = raw[field];
  if (v === undefined || v === null) fail('missing', field, 'is required');
  if (typeof v !== 'number') fail('wrong-type', field, 'must be a number');
  if (!Number.isSafeInteger(v)) fail('not-an-integer', field, 'must be a finite integer');
  if (v < 0) fail('negative', field, 'must not be negative');
  return v;
}

/** An epoch-ms timestamp; future values are clamped to now + maxClockSkewMs. */
function timestamp(raw: Raw, field: string, now: number, cfg: PresenceConfig): number {
  return Math.min(integer(raw, field), now + cfg.maxClockSkewMs);
}

function oneOf<T extends string>(raw: Raw, field: string, allowed: readonly T[]): T {
  const v = raw[field];
  if (v === undefined || v === null) fail('missing', field, 'is required');
  if (typeof v !== 'string') fail('wrong-type', field, 'must be a string');
  if (!(allowed as readonly string[]).includes(v)) fail('not-allowed', field, `must be one of ${allowed.join(', ')}`);
  return v as T;
}

function customText(raw: Raw, cfg: PresenceConfig): string | null {
  const v = raw['customText'];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') fail('wrong-type', 'customText', 'must be a string or null');
  const t = v.trim();
  if (t.length === 0) return null;
  if (CONTROL.test(t)) fail('invalid-character', 'customText', 'must not contain control characters');
  if (t.length > cfg.maxCustomTextLength && [...t].length > cfg.maxCustomTextLength) {
    fail('too-long', 'customText', `must be at most ${cfg.maxCustomTextLength} characters after trimming`);
  }
  return t;
}

/** An activity's emoji: absent, null or blank (none), else trimmed, short, no whitespace or control characters. */
function emoji(raw: Raw): string | null {
  const v = raw['emoji'];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') fail('wrong-type', 'emoji', 'must be a string or null');
  const t = v.trim();
  if (t.length === 0) return null;
  if (CONTROL.test(t) || /\s/.test(t)) fail('invalid-character', 'emoji', 'must not contain whitespace or control characters');
  if ([...t].length > MAX_ACTIVITY_EMOJI_LENGTH) fail('too-long', 'emoji', `must be at most ${MAX_ACTIVITY_EMOJI_LENGTH} characters after trimming`);
  return t;
}

/**
 * An activity write: the source, the activity (null or absent clears that source's register; an
 * unknown one is refused), its text and emoji (Custom needs one of them), and its expiry, which must
 * be after setAt (as sent) and after `now` (an activity already over is refused, not stored).
 */
function activity(r: Raw, now: number, cfg: PresenceConfig): ActivitySet {
  const userId = id(r, 'userId', cfg);
  const source = oneOf<ActivitySource>(r, 'source', ACTIVITY_SOURCES);
  const cleared = r['activity'] === undefined || r['activity'] === null;
  const kind = cleared ? null : oneOf<ActivityType>(r, 'activity', ACTIVITY_TYPES);
  const text = cleared ? null : customText(r, cfg);
  const em = cleared ? null : emoji(r);
  if (kind === 'Custom' && text === null && em === null) fail('missing', 'customText', 'a Custom activity needs customText or an emoji');
  const rawSetAt = integer(r, 'setAt');
  let expiresAt: number | null = null;
  if (!cleared && r['expiresAt'] !== undefined && r['expiresAt'] !== null) {
    expiresAt = integer(r, 'expiresAt');
    if (expiresAt <= rawSetAt) fail('invalid-range', 'expiresAt', 'must be after setAt');
    if (expiresAt <= now) fail('invalid-range', 'expiresAt', 'must be in the future');
  }
  return {
    type: 'activity', userId, source, activity: kind, customText: text, emoji: em, expiresAt,
    setAt: timestamp(r, 'setAt', now, cfg), eventId: id(r, 'eventId', cfg), ...audit(r, cfg),
  };
}

/** Longest audit reason, in characters after trimming (a note, not a document). */
export const MAX_REASON_LENGTH = 200;

/**
 * The audit of a register write: `actor` absent or null (not recorded), else `{kind, id}` with a
 * known kind and an id like the others; `reason` absent, null or blank (none), else trimmed text of
 * at most MAX_REASON_LENGTH characters without control characters. Kept on the event only when set.
 */
function audit(raw: Raw, cfg: PresenceConfig): Audit {
  const out: { actor?: Actor; reason?: string } = {};
  const a = raw['actor'];
  if (a !== undefined && a !== null) {
    if (typeof a !== 'object' || Array.isArray(a)) fail('wrong-type', 'actor', 'must be an object {kind, id} or null');
    const kind = (a as Raw)['kind'];
    if (kind === undefined || kind === null) fail('missing', 'actor.kind', 'is required');
    if (typeof kind !== 'string' || !(ACTOR_KINDS as readonly string[]).includes(kind)) fail('not-allowed', 'actor.kind', `must be one of ${ACTOR_KINDS.join(', ')}`);
    const actorId = (a as Raw)['id'];
    if (actorId === undefined || actorId === null) fail('missing', 'actor.id', 'is required');
    if (typeof actorId !== 'string') fail('wrong-type', 'actor.id', 'must be a string');
    const bad = idRejection('actor.id', actorId, cfg);
    if (bad) throw new Reject(bad);
    out.actor = { kind: kind as ActorKind, id: actorId };
  }
  const r = raw['reason'];
  if (r !== undefined && r !== null) {
    if (typeof r !== 'string') fail('wrong-type', 'reason', 'must be a string or null');
    const t = r.trim();
    if (CONTROL.test(t)) fail('invalid-character', 'reason', 'must not contain control characters');
    if (t.length > MAX_REASON_LENGTH && [...t].length > MAX_REASON_LENGTH) fail('too-long', 'reason', `must be at most ${MAX_REASON_LENGTH} characters after trimming`);
    if (t.length > 0) out.reason = t;
  }
  return out;
}

/** UTF-8 byte length without allocating (lone surrogates count as U+FFFD, 3 bytes). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

function metadata(raw: Raw, cfg: PresenceConfig): Metadata | null {
  const v = raw['metadata'];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) fail('wrong-type', 'metadata', 'must be an object of strings or null');
  const keys = Object.keys(v).sort();
  if (keys.length > cfg.maxMetadataEntries) {
    fail('too-many-entries', 'metadata', `must have at most ${cfg.maxMetadataEntries} entries`);
  }
  let bytes = 0;
  const entries: [string, string][] = [];
  for (const k of keys) {
    const value = (v as Raw)[k];
    if (k.length === 0) fail('empty', 'metadata', 'keys must not be empty');
    if (CONTROL.test(k)) fail('invalid-character', 'metadata', 'keys must not contain control characters');
    if (typeof value !== 'string') fail('wrong-type', `metadata.${k}`, 'must be a string');
    bytes += utf8Length(k) + utf8Length(value);
    entries.push([k, value]);
  }
  if (bytes > cfg.maxMetadataBytes) {
    fail('too-large', 'metadata', `keys and values must total at most ${cfg.maxMetadataBytes} bytes of UTF-8`);
  }
  // fromEntries defines own properties, so a key like "__proto__" is plain data.
  return Object.fromEntries(entries);
}

function record(raw: unknown): Raw {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('not-an-object', '(root)', 'must be an object');
  return raw as Raw;
}

function run<T>(f: () => T): Checked<T> {
  try {
    return { ok: true, event: f() };
  } catch (e) {
    return refused(e);
  }
}

function refused(e: unknown): { ok: false; rejection: Rejection } {
  if (e instanceof Reject) return { ok: false, rejection: e.rejection };
  // A hostile or broken input (e.g. a throwing getter) is refused, not propagated.
  return { ok: false, rejection: { code: 'wrong-type', field: '(root)', reason: `unreadable: ${String(e)}` } };
}

/**
 * Validates and normalises a raw user event (heartbeat, disconnect, override, visibility, lastSeenPrivacy).
 * Returns a fresh event holding only known fields, or a typed rejection; never throws.
 * - ids: non-blank strings of at most maxIdLength, no control characters;
 * - timestamps: non-negative integers; later than now + maxClockSkewMs are clamped to it;
 * - idleMs: non-negative integer, clamped to maxIdleMs and to observedAt (activity never before epoch);
 * - gatewayId (heartbeats): absent or null, else an id like the others (kept only when set);
 * - customText: trimmed, blank becomes null, longer than maxCustomTextLength code points is rejected;
 * - expiresAt: null or an integer strictly after setAt (as sent, before clamping);
 * - activity: source (manual, calendar, callSystem), activity (one of ACTIVITY_TYPES; null clears the
 *   source's register), customText as above, emoji (≤ MAX_ACTIVITY_EMOJI_LENGTH code points, no
 *   whitespace), Custom needs text or emoji, expiresAt null or after both setAt and now;
 * - override, visibility, lastSeenPrivacy, activity: the audit `actor` ({kind, id}) and `reason`, both optional
 *   (see audit()), kept only when set.
 */
export function checkUserEvent(raw: unknown, now: number, cfg: PresenceConfig): Checked<UserEvent> {
  return checkUserEventAs(undefined, raw, now, cfg);
}

/**
 * As checkUserEvent, with the type given apart when `type` is not undefined (a wire record's `kind`,
 * mapped by the caller) instead of read from `raw.type`: the processor's hot path checks a decoded
 * record without copying it into a new object first.
 */
export function checkUserEventAs(given: string | undefined, raw: unknown, now: number, cfg: PresenceConfig): Checked<UserEvent> {
  // A heartbeat (most events) without run()'s closure: one object fewer per event.
  if (given === 'heartbeat') {
    try {
      return { ok: true, event: heartbeatOf(record(raw), now, cfg) };
    } catch (e) {
      return refused(e);
    }
  }
  return run((): UserEvent => {
    const r = record(raw);
    const type = given === undefined ? r['type'] : given;
    switch (type) {
      case 'heartbeat':
        return heartbeatOf(r, now, cfg);
      case 'disconnect': {
        const e: SessionDisconnected = { type, ...session(r, now, cfg) };
        return e;
      }
      case 'override': {
        const userId = id(r, 'userId', cfg);
        const status = oneOf<OverrideStatus>(r, 'status', OVERRIDE_STATUSES);
        const text = customText(r, cfg);
        const rawSetAt = integer(r, 'setAt');
        let expiresAt: number | null = null;
        if (r['expiresAt'] !== undefined && r['expiresAt'] !== null) {
          expiresAt = integer(r, 'expiresAt');
          if (expiresAt <= rawSetAt) fail('invalid-range', 'expiresAt', 'must be after setAt');
        }
        const e: OverrideSet = {
          type,
          userId,
          status,
          customText: text,
          expiresAt,
          setAt: timestamp(r, 'setAt', now, cfg),
          eventId: id(r, 'eventId', cfg),
          ...audit(r, cfg),
        };
        return e;
      }
      // The settings registers: the user, the value, then when and which write (checked in that order).
      case 'visibility': {
        const e: VisibilitySet = { type, userId: id(r, 'userId', cfg), visibility: oneOf<Visibility>(r, 'visibility', VISIBILITIES), ...registerWrite(r, now, cfg) };
        return e;
      }
      case 'lastSeenPrivacy': {
        const e: LastSeenPrivacySet = {
          type, userId: id(r, 'userId', cfg), lastSeenPrivacy: oneOf<LastSeenPrivacy>(r, 'lastSeenPrivacy', LAST_SEEN_PRIVACIES), ...registerWrite(r, now, cfg),
        };
        return e;
      }
      case 'activity':
        return activity(r, now, cfg);
      default:
        return fail('unknown-type', 'type', `must be one of ${USER_EVENT_TYPES.join(', ')}`);
    }
  });
}

/** When and which write of a last-writer-wins register (its order key), then who and why (its audit). */
function registerWrite(r: Raw, now: number, cfg: PresenceConfig): { setAt: number; eventId: string } & Audit {
  return { setAt: timestamp(r, 'setAt', now, cfg), eventId: id(r, 'eventId', cfg), ...audit(r, cfg) };
}

/**
 * A heartbeat, its fields checked in the order session() checks them, then idleMs and gatewayId.
 * Built as one of two literal shapes (no spreads): it runs once per heartbeat in the processor.
 */
function heartbeatOf(r: Raw, now: number, cfg: PresenceConfig): HeartbeatReceived {
  const userId = id(r, 'userId', cfg);
  const deviceId = id(r, 'deviceId', cfg);
  const sessionId = id(r, 'sessionId', cfg);
  const platform = oneOf<Platform>(r, 'platform', PLATFORMS);
  const observedAt = timestamp(r, 'observedAt', now, cfg);
  const idleMs = Math.min(integer(r, 'idleMs'), cfg.maxIdleMs, observedAt);
  const g = r['gatewayId'];
  if (g === undefined || g === null) return { type: 'heartbeat', userId, deviceId, sessionId, platform, observedAt, idleMs };
  return { type: 'heartbeat', userId, deviceId, sessionId, platform, observedAt, idleMs, gatewayId: id(r, 'gatewayId', cfg) };
}

function session(r: Raw, now: number, cfg: PresenceConfig) {
  return {
    userId: id(r, 'userId', cfg),
    deviceId: id(r, 'deviceId', cfg),
    sessionId: id(r, 'sessionId', cfg),
    platform: oneOf<Platform>(r, 'platform', PLATFORMS),
    observedAt: timestamp(r, 'observedAt', now, cfg),
  };
}

/**
 * Validates and normalises a raw room event (join, roomHeartbeat, leave, sessionEnded).
 * roomKind must not contain '/' (the room key is `${roomKind}/${roomId}`). Metadata (join and
 * roomHeartbeat only; ignored on leave/sessionEnded) is null or at most maxMetadataEntries string
 * entries totalling at most maxMetadataBytes of UTF-8, returned with sorted keys. Never throws.
 */
export function checkRoomEvent(raw: unknown, now: number, cfg: PresenceConfig): Checked<RoomEvent> {
  return checkRoomEventAs(undefined, raw, now, cfg);
}

/** As checkRoomEvent, with the type given apart when not undefined (see checkUserEventAs). */
export function checkRoomEventAs(given: string | undefined, raw: unknown, now: number, cfg: PresenceConfig): Checked<RoomEvent> {
  return run((): RoomEvent => {
    const r = record(raw);
    const type = given === undefined ? r['type'] : given;
    switch (type) {
      case 'join':
      case 'roomHeartbeat':
        return { type, ...roomBase(r, now, cfg), metadata: metadata(r, cfg) };
      case 'leave':
      case 'sessionEnded':
        return { type, ...roomBase(r, now, cfg), metadata: null };
      case 'ephemeral':
        return { type, ...roomBase(r, now, cfg), metadata: null, ephemeral: ephemeral(r, cfg), ttlMs: ephemeralTtl(r, cfg) };
      default:
        return fail('unknown-type', 'type', `must be one of ${ROOM_EVENT_TYPES.join(', ')}`);
    }
  });
}

/** A short token: what a member is doing, never content (so no spaces or free text). */
const EPHEMERAL_TOKEN = /^[A-Za-z0-9._:-]+$/;

/** The ephemeral state of an `ephemeral` room event: null (clears) or { state, target? }, both bounded tokens. */
function ephemeral(r: Raw, cfg: PresenceConfig): Ephemeral | null {
  const v = r['ephemeral'];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object' || Array.isArray(v)) return fail('wrong-type', 'ephemeral', 'must be null or an object { state, target? }');
  const e = v as Raw;
  const t = e['target'];
  return { state: token(e['state'], 'ephemeral.state', cfg), target: t === null || t === undefined ? null : token(t, 'ephemeral.target', cfg) };
}

function token(v: unknown, field: string, cfg: PresenceConfig): string {
  if (v === undefined || v === null) fail('missing', field, 'is required');
  if (typeof v !== 'string') fail('wrong-type', field, 'must be a string');
  const bad = idRejection(field, v, cfg);
  if (bad) throw new Reject(bad);
  if (!EPHEMERAL_TOKEN.test(v)) fail('invalid-character', field, 'must be a token of letters, digits and . _ : -');
  return v;
}

function ephemeralTtl(r: Raw, cfg: PresenceConfig): number {
  const v = r['ephemeralTtlMs'];
  if (v === null || v === undefined) return cfg.roomEphemeralTtlMs;
  if (typeof v !== 'number') return fail('wrong-type', 'ephemeralTtlMs', 'must be a number');
  if (!Number.isSafeInteger(v) || v < 1 || v > cfg.maxRoomEphemeralTtlMs) {
    return fail('invalid-range', 'ephemeralTtlMs', `must be an integer in 1..${cfg.maxRoomEphemeralTtlMs}`);
  }
  return v;
}

function roomBase(r: Raw, now: number, cfg: PresenceConfig) {
  const roomKind = id(r, 'roomKind', cfg);
  if (roomKind.includes('/')) fail('invalid-character', 'roomKind', "must not contain '/'");
  return {
    roomKind,
    roomId: id(r, 'roomId', cfg),
    userId: id(r, 'userId', cfg),
    sessionId: id(r, 'sessionId', cfg),
    observedAt: timestamp(r, 'observedAt', now, cfg),
  };
}
