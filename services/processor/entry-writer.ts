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
import type { InPlaceEncoder } from '../platform/buffer-slab';

const symbols = (list: readonly string[]): Map<string, number> => new Map(list.map((s, i) => [s, i]));
// The entry schema's enums (entry-codec.ts, format 10), in their declared order.
const PLATFORM = symbols(['web', 'desktop', 'ios', 'android', 'other']);
const STATUS = symbols(['Online', 'Away', 'Busy', 'DoNotDisturb', 'Offline']);
const OVERRIDE_STATUS = symbols(['Available', 'Busy', 'DoNotDisturb', 'AppearOffline']);
const VISIBILITY = symbols(['everyone', 'nobody', 'contacts']);
const LAST_SEEN_PRIVACY = symbols(['exact', 'coarse', 'hidden']);
const ACTIVITY_TYPE = symbols(['Presenting', 'Focusing', 'InACall', 'InAMeeting', 'Custom']);
const ACTIVITY_SOURCE = symbols(['manual', 'calendar', 'callSystem']);
const ACTOR_KIND = symbols(['user', 'admin', 'integration']);

export class EntryEncodeError extends Error {}

class Writer {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;

  long(n: unknown, field: string): void {
    // avsc's isSafeLong bounds (one inside Number's safe integers on each side).
    if (typeof n !== 'number' || n % 1 !== 0 || !(n >= -9007199254740990 && n <= 9007199254740990)) throw new EntryEncodeError(`${field}: not a long (${String(n)})`);
    this.varlong(n);
  }

  /** Avro's zigzag varint, as avsc's Tap#writeLong writes it. */
  varlong(n: number): void {
    const buf = this.buf;
    if (n >= -1073741824 && n < 1073741824) {
      let m = n >= 0 ? n << 1 : (~n << 1) | 1;
      while (m > 0x7f) {
        buf[this.pos++] = (m & 0x7f) | 0x80;
        m >>= 7;
      }
      buf[this.pos++] = m;
      return;
    }
    let f = n >= 0 ? n * 2 : -n * 2 - 1;
    while (f >= 128) {
      buf[this.pos++] = (f & 0x7f) | 0x80;
      f /= 128;
    }
    buf[this.pos++] = f & 0x7f;
  }

  nullableLong(n: unknown, field: string): void {
    if (n === null) {
      this.buf[this.pos++] = 0;
      return;
    }
    this.buf[this.pos++] = 2;
    this.long(n, field);
  }

  string(s: unknown, field: string): void {
    if (typeof s !== 'string') throw new EntryEncodeError(`${field}: not a string (${String(s)})`);
    const len = Buffer.byteLength(s);
    this.varlong(len);
    const pos = this.pos;
    this.pos += len;
    if (this.pos > this.buf.length) return; // too small: the caller gets a negative end
    if (len > 64) {
      (this.buf as Buffer & { utf8Write(s: string, offset: number, length: number): number }).utf8Write(s, pos, len);
      return;
    }
    // Short strings byte by byte, as avsc does (a native write costs more than the loop).
    const buf = this.buf;
    let o = pos;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        buf[o++] = c;
      } else if (c < 0x800) {
        buf[o++] = (c >> 6) | 0xc0;
        buf[o++] = (c & 0x3f) | 0x80;
      } else {
        const d = s.charCodeAt(i + 1);
        if ((c & 0xfc00) === 0xd800 && (d & 0xfc00) === 0xdc00) {
          c = 0x10000 + ((c & 0x03ff) << 10) + (d & 0x03ff);
          i++;
          buf[o++] = (c >> 18) | 0xf0;
          buf[o++] = ((c >> 12) & 0x3f) | 0x80;
        } else {
          buf[o++] = (c >> 12) | 0xe0;
        }
        buf[o++] = ((c >> 6) & 0x3f) | 0x80;
        buf[o++] = (c & 0x3f) | 0x80;
      }
    }
  }

  nullableString(s: unknown, field: string): void {
    if (s === null) {
      this.buf[this.pos++] = 0;
      return;
    }
    this.buf[this.pos++] = 2;
    this.string(s, field);
  }

  symbol(table: Map<string, number>, s: unknown, field: string): void {
    const index = table.get(s as string);
    if (index === undefined) throw new EntryEncodeError(`${field}: not a symbol of its enum (${String(s)})`);
    this.buf[this.pos++] = index << 1; // every enum here has fewer than 64 symbols: one byte
  }

  boolean(b: unknown, field: string): void {
    if (typeof b !== 'boolean') throw new EntryEncodeError(`${field}: not a boolean (${String(b)})`);
    this.buf[this.pos++] = b ? 1 : 0;
  }

  /** An array's block: its count (none when empty), the items, the closing zero count. */
  array<T>(items: readonly T[] | undefined, field: string, item: (w: Writer, x: T) => void): void {
    if (items === undefined) items = []; // every array field of the entry defaults to []
    if (!Array.isArray(items)) throw new EntryEncodeError(`${field}: not an array`);
    if (items.length > 0) {
      this.varlong(items.length);
      for (let i = 0; i < items.length; i++) item(this, items[i] as T);
    }
    this.buf[this.pos++] = 0;
  }

  /** A register's audit (actor, reason), null when the write carried none. */
  audit(r: Audit): void {
    const actor: Actor | null | undefined = r.actor;
    if (actor === undefined || actor === null) {
      this.buf[this.pos++] = 0;
    } else {
      this.buf[this.pos++] = 2;
      this.symbol(ACTOR_KIND, actor.kind, 'actor.kind');
      this.string(actor.id, 'actor.id');
    }
    this.nullableString(r.reason ?? null, 'reason');
  }
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
  if (a.activity === null) w.buf[w.pos++] = 0;
  else {
    w.buf[w.pos++] = 2;
    w.symbol(ACTIVITY_TYPE, a.activity, 'activities.activity');
  }
  w.nullableString(a.customText, 'activities.customText');
  w.nullableString(a.emoji, 'activities.emoji');
  w.nullableLong(a.expiresAt, 'activities.expiresAt');
  w.long(a.setAt, 'activities.setAt');
  w.string(a.eventId, 'activities.eventId');
  w.audit(a);
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
  if (o === null) w.buf[w.pos++] = 0;
  else {
    w.buf[w.pos++] = 2;
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
  if (r === null || r === undefined) {
    w.buf[w.pos++] = 0;
    return;
  }
  w.buf[w.pos++] = 2;
  w.symbol(table, value, fields.value);
  w.long(r.setAt, fields.setAt);
  w.string(r.eventId, fields.eventId);
  w.audit(r);
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
  if (o === null) w.buf[w.pos++] = 0;
  else {
    w.buf[w.pos++] = 2;
    w.symbol(OVERRIDE_STATUS, o.status, 'override.status');
    w.nullableString(o.customText, 'override.customText');
    w.nullableLong(o.expiresAt, 'override.expiresAt');
    w.long(o.setAt, 'override.setAt');
    w.string(o.eventId, 'override.eventId');
    w.audit(o);
  }
  settingRegister(w, VISIBILITY, s.visibility, s.visibility?.visibility, VISIBILITY_FIELDS);
  settingRegister(w, LAST_SEEN_PRIVACY, s.lastSeenPrivacy, s.lastSeenPrivacy?.lastSeenPrivacy, LAST_SEEN_PRIVACY_FIELDS);
  w.array(s.activities, 'activities', activityRegister);
  w.symbol(STATUS, s.status, 'status');
  w.nullableLong(s.statusSince, 'statusSince');
  w.long(s.version, 'version');
  if (emitted === null) w.buf[w.pos++] = 0;
  else {
    w.buf[w.pos++] = 2;
    emittedView(w, emitted);
  }
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
