/**
 * The user entry of format 10 (entry-codec.ts) written by hand: the same bytes as avsc's writer for
 * `userEntrySchema(10)`, straight from the task's entry (no intermediate record with its audit
 * copies) and without avsc's per-field dispatch (unions found by value bucket, enums by lookup,
 * longs checked through a type object). encodeEntry took 1.5 s of a stream thread's 15.8 busy
 * seconds in a catch-up profile. Reading stays avsc's; entry-writer.unit.spec.ts checks the bytes
 * against avsc for generated entries.
 *
 * Follows avsc's conventions: a field with a default is written as its default when undefined; a
 * value avsc would refuse (a non-integer long, an unknown symbol, a missing string) throws.
 * `encode` returns the end, or a negative number when `buf` is too small (nothing past its end is
 * written), as avsc's Type#encode does, so BufferSlab.encode can call it the same way.
 */
import type { ActivityRegister, ActivityView, Actor, Audit, DeviceView, Session, UserState, UserView } from '../core';
import { AvroWriter as Writer, symbolIndex as symbols } from '../platform/avro-writer';
import type { InPlaceEncoder } from '../platform/buffer-slab';

// The entry schema's enums (entry-codec.ts, format 10), in their declared order.
const PLATFORM = symbols(['web', 'desktop', 'ios', 'android', 'other']);
const STATUS = symbols(['Online', 'Away', 'Busy', 'DoNotDisturb', 'Offline']);
const OVERRIDE_STATUS = symbols(['Available', 'Busy', 'DoNotDisturb', 'AppearOffline']);
const VISIBILITY = symbols(['everyone', 'nobody', 'contacts']);
const LAST_SEEN_PRIVACY = symbols(['exact', 'coarse', 'hidden']);
const ACTIVITY_TYPE = symbols(['Presenting', 'Focusing', 'InACall', 'InAMeeting', 'Custom']);
const ACTIVITY_SOURCE = symbols(['manual', 'calendar', 'callSystem']);
const ACTOR_KIND = symbols(['user', 'admin', 'integration']);

/** A register's audit (actor, reason), null when the write carried none. */
function audit(w: Writer, r: Audit): void {
  const actor: Actor | null = r.actor ?? null;
  if (w.present(actor)) {
    w.symbol(ACTOR_KIND, actor.kind, 'actor.kind');
    w.string(actor.id, 'actor.id');
  }
  w.nullableString(r.reason ?? null, 'reason');
}

function session(w: Writer, s: Session): void {
  w.string(s.deviceId, 'sessions.deviceId');
  w.string(s.sessionId, 'sessions.sessionId');
  w.symbol(PLATFORM, s.platform, 'sessions.platform');
  w.nullableLong(s.lastSeen, 'sessions.lastSeen');
  w.nullableLong(s.lastActivity, 'sessions.lastActivity');
  w.nullableLong(s.endedAt, 'sessions.endedAt');
  w.nullableString(s.gatewayId === undefined ? null : s.gatewayId, 'sessions.gatewayId');
  w.array(s.arrivals, 'sessions.arrivals', arrival);
}

function arrival(w: Writer, t: number): void {
  w.long(t, 'sessions.arrivals');
}

function activityRegister(w: Writer, a: ActivityRegister): void {
  w.symbol(ACTIVITY_SOURCE, a.source, 'activities.source');
  if (w.present(a.activity)) w.symbol(ACTIVITY_TYPE, a.activity, 'activities.activity');
  w.nullableString(a.customText, 'activities.customText');
  w.nullableString(a.emoji, 'activities.emoji');
  w.nullableLong(a.expiresAt, 'activities.expiresAt');
  w.long(a.setAt, 'activities.setAt');
  w.string(a.eventId, 'activities.eventId');
  audit(w, a);
}

function device(w: Writer, d: DeviceView): void {
  w.string(d.deviceId, 'emitted.devices.deviceId');
  w.string(d.sessionId, 'emitted.devices.sessionId');
  w.symbol(PLATFORM, d.platform, 'emitted.devices.platform');
  w.nullableString(d.gatewayId === undefined ? null : d.gatewayId, 'emitted.devices.gatewayId');
  w.boolean(d.active === undefined ? true : d.active, 'emitted.devices.active');
}

function activityView(w: Writer, a: ActivityView): void {
  w.symbol(ACTIVITY_TYPE, a.activity, 'emitted.activities.activity');
  w.symbol(ACTIVITY_SOURCE, a.source, 'emitted.activities.source');
  w.nullableString(a.customText, 'emitted.activities.customText');
  w.nullableString(a.emoji, 'emitted.activities.emoji');
  w.nullableLong(a.expiresAt, 'emitted.activities.expiresAt');
  w.long(a.setAt, 'emitted.activities.setAt');
}

function emittedView(w: Writer, e: UserView): void {
  w.symbol(STATUS, e.status, 'emitted.status');
  w.nullableLong(e.statusSince, 'emitted.statusSince');
  w.nullableLong(e.lastSeen, 'emitted.lastSeen');
  w.nullableLong(e.lastActive, 'emitted.lastActive');
  const o = e.override;
  if (w.present(o)) {
    w.symbol(OVERRIDE_STATUS, o.status, 'emitted.override.status');
    w.nullableString(o.customText, 'emitted.override.customText');
    w.nullableLong(o.expiresAt, 'emitted.override.expiresAt');
  }
  w.symbol(VISIBILITY, e.visibility, 'emitted.visibility');
  w.symbol(LAST_SEEN_PRIVACY, e.lastSeenPrivacy === undefined ? 'exact' : e.lastSeenPrivacy, 'emitted.lastSeenPrivacy');
  w.array(e.devices, 'emitted.devices', device);
  w.long(e.version, 'emitted.version');
  w.long(e.emittedAt, 'emitted.emittedAt');
  w.nullableLong(e.offlineAt ?? null, 'emitted.offlineAt');
  w.array(e.activities, 'emitted.activities', activityView);
}

/** A settings register (visibility, last-seen privacy): its value, then when and which write, then its audit; null when never set. */
function settingRegister(w: Writer, table: Map<string, number>, r: ({ readonly setAt: number; readonly eventId: string } & Audit) | null | undefined, value: unknown, fields: RegisterFields): void {
  const reg = r ?? null; // the last-seen privacy register defaults to null (absent before format 4)
  if (!w.present(reg)) return;
  w.symbol(table, value, fields.value);
  w.long(reg.setAt, fields.setAt);
  w.string(reg.eventId, fields.eventId);
  audit(w, reg);
}

/** The field names errors give (constants: this runs for every entry). */
interface RegisterFields { readonly value: string; readonly setAt: string; readonly eventId: string }
const VISIBILITY_FIELDS: RegisterFields = { value: 'visibility.visibility', setAt: 'visibility.setAt', eventId: 'visibility.eventId' };
const LAST_SEEN_PRIVACY_FIELDS: RegisterFields = { value: 'lastSeenPrivacy.lastSeenPrivacy', setAt: 'lastSeenPrivacy.setAt', eventId: 'lastSeenPrivacy.eventId' };

function userEntry(w: Writer, s: UserState, emitted: UserView | null): void {
  w.string(s.userId, 'userId');
  w.array(s.sessions, 'sessions', session);
  w.nullableLong(s.lastSeen, 'lastSeen');
  w.nullableLong(s.lastActivity, 'lastActivity');
  const o = s.override;
  if (w.present(o)) {
    w.symbol(OVERRIDE_STATUS, o.status, 'override.status');
    w.nullableString(o.customText, 'override.customText');
    w.nullableLong(o.expiresAt, 'override.expiresAt');
    w.long(o.setAt, 'override.setAt');
    w.string(o.eventId, 'override.eventId');
    audit(w, o);
  }
  settingRegister(w, VISIBILITY, s.visibility, s.visibility?.visibility, VISIBILITY_FIELDS);
  settingRegister(w, LAST_SEEN_PRIVACY, s.lastSeenPrivacy, s.lastSeenPrivacy?.lastSeenPrivacy, LAST_SEEN_PRIVACY_FIELDS);
  w.array(s.activities, 'activities', activityRegister);
  w.symbol(STATUS, s.status, 'status');
  w.nullableLong(s.statusSince, 'statusSince');
  w.long(s.version, 'version');
  if (w.present(emitted)) emittedView(w, emitted);
}

/** A user's state and emitted view, as `{ state, emitted }`, in format 10's UserEntry layout. */
export interface UserEntryValue {
  readonly state: UserState;
  readonly emitted: UserView | null;
}

const writer = new Writer();

export const userEntryWriter: InPlaceEncoder = {
  encode(value: unknown, buf: Buffer, pos: number): number {
    const { state, emitted } = value as UserEntryValue;
    writer.buf = buf;
    writer.pos = pos;
    try {
      userEntry(writer, state, emitted);
      return writer.pos <= buf.length ? writer.pos : buf.length - writer.pos;
    } finally {
      writer.buf = EMPTY;
    }
  },
};

const EMPTY = Buffer.alloc(0);
