/**
 * The store/changelog entry format: one user's or one room's state plus the view readers were last
 * told. Format 10 is Avro binary behind a one-byte tag (about a fifth of the JSON's size, and cheaper
 * to write): format 7's layout plus the activity registers and the emitted view's activities (format
 * 8) and with `contacts` in the Visibility enum (format 9; 8 and 9 were written by two branches
 * developed side by side, merged as 10). Earlier formats are still read, so a store and a changelog
 * written by earlier versions restore: format 9 (no activities), format 8 (visibility everyone or
 * nobody), format 7 (neither), format 6, the same Avro without the emitted devices' gatewayId and active flag (read as
 * null and true: the next flush re-emits a user whose sessions say otherwise) and without the
 * registers' audit (actor and reason, read as none), format 5, without the room members' ephemeral
 * state either (read as none), format 4, without the sessions' arrival histories (read as none) and the
 * emitted view's offlineAt (read as absent), format 3, the same Avro without the last-seen privacy register (read as null, and the
 * emitted view's setting as exact), format 2, without Session.gatewayId either (read as null), and
 * format 1, the JSON text (it starts with '{'). The schema is internal to the processor (the changelog is not a public
 * topic), so it is not registered; a new layout gets a new tag.
 */
import avro from 'avsc';
import { findSession, withUserFields, type ActivityRegister, type ActivityView, type Actor, type Audit, type DeviceView, type MemberView, type RoomMember, type RoomState, type RoomView, type Session, type UserState, type UserView } from '../core';
import { BufferSlab } from '../platform/buffer-slab';
import { internGatewayId } from './gateway-ids';
import { userEntryWriter } from './entry-writer';

export interface UserEntry { readonly kind: 'user'; state: UserState; emitted: UserView | null }
export interface RoomEntry { readonly kind: 'room'; state: RoomState; emitted: RoomView | null }
export type Entry = UserEntry | RoomEntry;

const TAG_AVRO_V2 = 0x02;
/** Format 3: format 2 plus Session.gatewayId (rooms unchanged). */
const TAG_AVRO_V3 = 0x03;
/** Format 4: format 3 plus the last-seen privacy register and the emitted view's setting. */
const TAG_AVRO_V4 = 0x04;
/** Format 5: format 4 plus Session.arrivals and the emitted view's offlineAt (the adaptive offline rule). */
const TAG_AVRO_V5 = 0x05;
/** Format 6: format 5 plus the room members' ephemeral state (typing), in the state and the emitted view (users unchanged). */
const TAG_AVRO_V6 = 0x06;
/**
 * Format 7: format 6 plus the emitted view's devices' gatewayId and active flag (device routing) and
 * the audit (actor, reason) of each register's winning write; rooms as format 6.
 */
const TAG_AVRO_V7 = 0x07;
/** Format 8: format 7 plus the user's activity registers (one per source) and the emitted view's activities; rooms as format 6. */
const TAG_AVRO_V8 = 0x08;
/** Format 9: format 7 with `contacts` in the visibility register's and the emitted view's Visibility enum (rooms as format 6). */
const TAG_AVRO_V9 = 0x09;
/** Format 10: both (the formats 8 and 9 merged); rooms as format 6. */
const TAG_AVRO_V10 = 0x0a;
const JSON_OPEN_BRACE = 0x7b;
const JSON_FORMAT = 1;

const nullable = (type: unknown) => ['null', type];
const platform = { type: 'enum', name: 'Platform', symbols: ['web', 'desktop', 'ios', 'android', 'other'] };
const status = { type: 'enum', name: 'Status', symbols: ['Online', 'Away', 'Busy', 'DoNotDisturb', 'Offline'] };
const overrideStatus = { type: 'enum', name: 'OverrideStatus', symbols: ['Available', 'Busy', 'DoNotDisturb', 'AppearOffline'] };
/** Formats 9 and 10 appended `contacts` (Avro resolves an enum whose writer symbols are a subset of the reader's). */
const visibility = (format: number) => ({ type: 'enum', name: 'Visibility', symbols: format === 9 || format >= 10 ? ['everyone', 'nobody', 'contacts'] : ['everyone', 'nobody'] });
const lastSeenPrivacy = { type: 'enum', name: 'LastSeenPrivacy', symbols: ['exact', 'coarse', 'hidden'] };
const activityType = { type: 'enum', name: 'ActivityType', symbols: ['Presenting', 'Focusing', 'InACall', 'InAMeeting', 'Custom'] };
const activitySource = { type: 'enum', name: 'ActivitySource', symbols: ['manual', 'calendar', 'callSystem'] };
const actor = { type: 'record', name: 'Actor', fields: [
  { name: 'kind', type: { type: 'enum', name: 'ActorKind', symbols: ['user', 'admin', 'integration'] } },
  { name: 'id', type: 'string' },
] };
/** Format 7's audit fields of a register; the Actor record is defined at its first use (the override register). */
const auditFields = (format: number, firstUse: boolean) => (format >= 7 ? [
  { name: 'actor', type: nullable(firstUse ? actor : 'Actor'), default: null },
  { name: 'reason', type: nullable('string'), default: null },
] : []);

// Decoded records are plain objects for the core (no generated methods).
const TYPE_OPTIONS = { omitRecordMethods: true };

/**
 * The user entry layout of `format`. Format 3 added the session's gatewayId (nullable, default null)
 * at the end of Session, format 4 the last-seen privacy register (default null) and the emitted
 * view's setting (default exact), format 5 the session's arrivals (default empty) and the emitted
 * view's offlineAt (default null), format 7 the emitted devices' gatewayId (default null) and active
 * flag (default true, what readers of such a snapshot assume) and each register's actor and reason
 * (default null); older formats are read through resolvers.
 */
const userEntrySchema = (format: 2 | 3 | 4 | 5 | 7 | 8 | 9 | 10) => <avro.Schema>{
  type: 'record', name: 'UserEntry', namespace: 'presence.processor.v2',
  fields: [
    { name: 'userId', type: 'string' },
    { name: 'sessions', type: { type: 'array', items: { type: 'record', name: 'Session', fields: [
      { name: 'deviceId', type: 'string' },
      { name: 'sessionId', type: 'string' },
      { name: 'platform', type: platform },
      { name: 'lastSeen', type: nullable('long') },
      { name: 'lastActivity', type: nullable('long') },
      { name: 'endedAt', type: nullable('long') },
      ...(format >= 3 ? [{ name: 'gatewayId', type: nullable('string'), default: null }] : []),
      ...(format >= 5 ? [{ name: 'arrivals', type: { type: 'array', items: 'long' }, default: [] }] : []),
    ] } } },
    { name: 'lastSeen', type: nullable('long') },
    { name: 'lastActivity', type: nullable('long') },
    { name: 'override', type: nullable({ type: 'record', name: 'OverrideRegister', fields: [
      { name: 'status', type: overrideStatus },
      { name: 'customText', type: nullable('string') },
      { name: 'expiresAt', type: nullable('long') },
      { name: 'setAt', type: 'long' },
      { name: 'eventId', type: 'string' },
      ...auditFields(format, true),
    ] }) },
    { name: 'visibility', type: nullable({ type: 'record', name: 'VisibilityRegister', fields: [
      { name: 'visibility', type: visibility(format) },
      { name: 'setAt', type: 'long' },
      { name: 'eventId', type: 'string' },
      ...auditFields(format, false),
    ] }) },
    ...(format >= 4 ? [{ name: 'lastSeenPrivacy', type: nullable({ type: 'record', name: 'LastSeenPrivacyRegister', fields: [
      { name: 'lastSeenPrivacy', type: lastSeenPrivacy },
      { name: 'setAt', type: 'long' },
      { name: 'eventId', type: 'string' },
      ...auditFields(format, false),
    ] }), default: null }] : []),
    ...(format === 8 || format >= 10 ? [{ name: 'activities', type: { type: 'array', items: { type: 'record', name: 'ActivityRegister', fields: [
      { name: 'source', type: activitySource },
      { name: 'activity', type: nullable(activityType) },
      { name: 'customText', type: nullable('string') },
      { name: 'emoji', type: nullable('string') },
      { name: 'expiresAt', type: nullable('long') },
      { name: 'setAt', type: 'long' },
      { name: 'eventId', type: 'string' },
      ...auditFields(format, false),
    ] } }, default: [] }] : []),
    { name: 'status', type: status },
    { name: 'statusSince', type: nullable('long') },
    { name: 'version', type: 'long' },
    // The emitted view, minus what equals the state's (userId) : its devices are listed by key.
    { name: 'emitted', type: nullable({ type: 'record', name: 'EmittedUserView', fields: [
      { name: 'status', type: 'Status' },
      { name: 'statusSince', type: nullable('long') },
      { name: 'lastSeen', type: nullable('long') },
      { name: 'lastActive', type: nullable('long') },
      { name: 'override', type: nullable({ type: 'record', name: 'OverrideView', fields: [
        { name: 'status', type: 'OverrideStatus' },
        { name: 'customText', type: nullable('string') },
        { name: 'expiresAt', type: nullable('long') },
      ] }) },
      { name: 'visibility', type: 'Visibility' },
      ...(format >= 4 ? [{ name: 'lastSeenPrivacy', type: 'LastSeenPrivacy', default: 'exact' }] : []),
      { name: 'devices', type: { type: 'array', items: { type: 'record', name: 'DeviceView', fields: [
        { name: 'deviceId', type: 'string' },
        { name: 'sessionId', type: 'string' },
        { name: 'platform', type: 'Platform' },
        ...(format >= 7 ? [{ name: 'gatewayId', type: nullable('string'), default: null }, { name: 'active', type: 'boolean', default: true }] : []),
      ] } } },
      { name: 'version', type: 'long' },
      { name: 'emittedAt', type: 'long' },
      ...(format >= 5 ? [{ name: 'offlineAt', type: nullable('long'), default: null }] : []),
      ...(format === 8 || format >= 10 ? [{ name: 'activities', type: { type: 'array', items: { type: 'record', name: 'ActivityView', fields: [
        { name: 'activity', type: 'ActivityType' },
        { name: 'source', type: 'ActivitySource' },
        { name: 'customText', type: nullable('string') },
        { name: 'emoji', type: nullable('string') },
        { name: 'expiresAt', type: nullable('long') },
        { name: 'setAt', type: 'long' },
      ] } }, default: [] }] : []),
    ] }) },
  ],
};
const userEntryType = avro.Type.forSchema(userEntrySchema(10), { ...TYPE_OPTIONS });
const userEntryFromV9 = userEntryType.createResolver(avro.Type.forSchema(userEntrySchema(9), { ...TYPE_OPTIONS }));
const userEntryFromV8 = userEntryType.createResolver(avro.Type.forSchema(userEntrySchema(8), { ...TYPE_OPTIONS }));
const userEntryFromV7 = userEntryType.createResolver(avro.Type.forSchema(userEntrySchema(7), { ...TYPE_OPTIONS }));
const userEntryFromV5 = userEntryType.createResolver(avro.Type.forSchema(userEntrySchema(5), { ...TYPE_OPTIONS }));
const userEntryFromV4 = userEntryType.createResolver(avro.Type.forSchema(userEntrySchema(4), { ...TYPE_OPTIONS }));
const userEntryFromV3 = userEntryType.createResolver(avro.Type.forSchema(userEntrySchema(3), { ...TYPE_OPTIONS }));
const userEntryFromV2 = userEntryType.createResolver(avro.Type.forSchema(userEntrySchema(2), { ...TYPE_OPTIONS }));

/** The room entry layout of `format`: format 6 added each member's ephemeral register and view (default null). */
const roomEntrySchema = (format: 5 | 6) => <avro.Schema>{
  type: 'record', name: 'RoomEntry', namespace: 'presence.processor.v2',
  fields: [
    { name: 'roomKind', type: 'string' },
    { name: 'roomId', type: 'string' },
    { name: 'members', type: { type: 'array', items: { type: 'record', name: 'RoomMember', fields: [
      { name: 'userId', type: 'string' },
      { name: 'sessionId', type: 'string' },
      { name: 'joinedAt', type: nullable('long') },
      { name: 'lastSeen', type: nullable('long') },
      { name: 'leftAt', type: nullable('long') },
      { name: 'metadata', type: nullable({ type: 'map', values: 'string' }) },
      { name: 'metadataAt', type: nullable('long') },
      ...(format >= 6 ? [{ name: 'ephemeral', type: nullable({ type: 'record', name: 'EphemeralRegister', fields: [
        { name: 'ephemeral', type: nullable({ type: 'record', name: 'Ephemeral', fields: [
          { name: 'state', type: 'string' },
          { name: 'target', type: nullable('string') },
        ] }) },
        { name: 'setAt', type: 'long' },
        { name: 'expiresAt', type: 'long' },
      ] }), default: null }] : []),
    ] } } },
    { name: 'version', type: 'long' },
    { name: 'emitted', type: nullable({ type: 'record', name: 'EmittedRoomView', fields: [
      { name: 'members', type: { type: 'array', items: { type: 'record', name: 'MemberView', fields: [
        { name: 'userId', type: 'string' },
        { name: 'sessionId', type: 'string' },
        { name: 'joinedAt', type: 'long' },
        { name: 'lastSeen', type: 'long' },
        { name: 'metadata', type: { type: 'map', values: 'string' } },
        ...(format >= 6 ? [{ name: 'ephemeral', type: nullable({ type: 'record', name: 'EphemeralView', fields: [
          { name: 'state', type: 'string' },
          { name: 'target', type: nullable('string') },
          { name: 'expiresAt', type: 'long' },
        ] }), default: null }] : []),
      ] } } },
      { name: 'version', type: 'long' },
      { name: 'emittedAt', type: 'long' },
    ] }) },
  ],
};
const roomEntryType = avro.Type.forSchema(roomEntrySchema(6), { ...TYPE_OPTIONS });
const roomEntryFromV5 = roomEntryType.createResolver(avro.Type.forSchema(roomEntrySchema(5), { ...TYPE_OPTIONS }));

const KIND_USER = 0;
const KIND_ROOM = 1;

/** Entries live until the checkpoint has sent and stored them: encoded into slabs, not a Buffer each. */
const entrySlab = new BufferSlab();
/** Each entry's first two bytes: the format tag and the kind. */
const ENTRY_HEADERS = [Buffer.from([TAG_AVRO_V10, 0]), Buffer.from([TAG_AVRO_V10, 1])] as const;

function encodeInto(kind: typeof KIND_USER | typeof KIND_ROOM, type: avro.Type, value: unknown): Buffer {
  return entrySlab.encode(ENTRY_HEADERS[kind], type, value);
}

/** A register's audit as the format writes it: null for what the write did not carry. */
const withAudit = <R extends Audit>(r: R | null) => r && { ...r, actor: r.actor ?? null, reason: r.reason ?? null };

/** The core keeps an audit only when the write carried one: null is read as absent. */
function withoutNullAudit<R extends Audit>(r: (R & { actor: Actor | null; reason: string | null }) | null): R | null {
  if (r === null) return null;
  const { actor: a, reason, ...rest } = r;
  return { ...rest, ...(a === null ? {} : { actor: a }), ...(reason === null ? {} : { reason }) } as unknown as R;
}

/** Sessions of states from before gatewayId existed (format 1) lack it: encoded as null. */
const withGatewayId = (s: Session): Session => (s.gatewayId === undefined ? { ...s, gatewayId: null } : s);

/**
 * The emitted view as the entry's EmittedUserView record, field by field: a spread that adds
 * `activities` to a view without one made a dictionary-mode copy (Node 20's V8), the largest
 * allocation of a checkpoint and slow for avsc to read.
 */
function emittedRecord(e: UserView) {
  return {
    status: e.status, statusSince: e.statusSince, lastSeen: e.lastSeen, lastActive: e.lastActive, override: e.override, visibility: e.visibility,
    lastSeenPrivacy: e.lastSeenPrivacy, devices: e.devices, version: e.version, emittedAt: e.emittedAt, offlineAt: e.offlineAt ?? null, activities: e.activities ?? [],
  };
}

/**
 * A user entry as avsc writes it from the schema: the reference the hand-written writer
 * (entry-writer.ts, what encodeEntry uses) is checked against, byte for byte.
 */
export function avscUserEntryBytes(entry: UserEntry): Buffer {
  const s = entry.state;
  const body = userEntryType.toBuffer({
    userId: s.userId, sessions: s.sessions.some((x) => x.gatewayId === undefined) ? s.sessions.map(withGatewayId) : s.sessions, lastSeen: s.lastSeen, lastActivity: s.lastActivity,
    override: withAudit(s.override), visibility: withAudit(s.visibility), lastSeenPrivacy: withAudit(s.lastSeenPrivacy),
    activities: (s.activities ?? []).map(withAudit), status: s.status, statusSince: s.statusSince, version: s.version,
    emitted: entry.emitted && emittedRecord(entry.emitted),
  });
  return Buffer.concat([ENTRY_HEADERS[KIND_USER], body]);
}

export function encodeEntry(entry: Entry): Buffer {
  if (entry.kind === 'user') return entrySlab.encode(ENTRY_HEADERS[KIND_USER], userEntryWriter, entry);
  const { state, emitted } = entry;
  return encodeInto(KIND_ROOM, roomEntryType, { roomKind: state.roomKind, roomId: state.roomId, members: state.members, version: state.version, emitted });
}

/** Per tag: how a user entry of that format is read into format 10 (null: it is format 10; 5 and 6 share a user layout). */
const USER_RESOLVERS = new Map<number, avro.Resolver | null>([
  [TAG_AVRO_V10, null],
  [TAG_AVRO_V9, userEntryFromV9],
  [TAG_AVRO_V8, userEntryFromV8],
  [TAG_AVRO_V7, userEntryFromV7],
  [TAG_AVRO_V6, userEntryFromV5],
  [TAG_AVRO_V5, userEntryFromV5],
  [TAG_AVRO_V4, userEntryFromV4],
  [TAG_AVRO_V3, userEntryFromV3],
  [TAG_AVRO_V2, userEntryFromV2],
]);

type NullAudit<R> = (NonNullable<R> & { actor: Actor | null; reason: string | null }) | null;

type DecodedSession = Session & { readonly arrivals: readonly number[] };

/**
 * The core keeps no arrivals while the adaptive rule is off: an empty list is read as none, the
 * session built field by field as the core builds it (a rest copy per session was restore's garbage).
 */
function withoutEmptyArrivals(s: DecodedSession): Session {
  if (s.arrivals.length > 0) {
    return { deviceId: s.deviceId, sessionId: s.sessionId, platform: s.platform, lastSeen: s.lastSeen, lastActivity: s.lastActivity, endedAt: s.endedAt, gatewayId: internGatewayId(s.gatewayId), arrivals: s.arrivals };
  }
  return { deviceId: s.deviceId, sessionId: s.sessionId, platform: s.platform, lastSeen: s.lastSeen, lastActivity: s.lastActivity, endedAt: s.endedAt, gatewayId: internGatewayId(s.gatewayId) };
}

type DecodedMember = RoomMember & { readonly ephemeral: RoomMember['ephemeral'] | null };
type DecodedMemberView = MemberView & { readonly ephemeral: MemberView['ephemeral'] | null };

/** A member that never had an ephemeral state has none (absent), as the core builds it. */
function withoutNullEphemeral<T extends { readonly ephemeral?: unknown }>(m: T): T {
  if (m.ephemeral != null) return m;
  const { ephemeral: _none, ...rest } = m;
  return rest as T;
}

/**
 * The emitted device with the strings of its session in the state, as the live path builds it
 * (userView): decoded, each would be a second copy of the ids, kept for the user's lifetime.
 * Mapped, the list is also exactly sized (avsc's pushes leave ~17 slots).
 */
function sharingStrings(d: DeviceView, sessions: readonly Session[]): DeviceView {
  const s = sessions[findSession(sessions, d.deviceId, d.sessionId)];
  const ids = s ?? d; // a device whose session is gone keeps its own
  const gatewayId = s !== undefined && s.gatewayId === d.gatewayId ? s.gatewayId : internGatewayId(d.gatewayId);
  return { deviceId: ids.deviceId, sessionId: ids.sessionId, platform: d.platform, gatewayId, active: d.active };
}

/** offlineAt is written only with the adaptive rule on: null is read as absent; so are no activities (as the core writes them). */
function emittedView(userId: string, e: Omit<UserView, 'userId'> & { offlineAt: number | null; activities: readonly ActivityView[] }, sessions: readonly Session[]): UserView {
  const devices = e.devices.map((d) => sharingStrings(d, sessions));
  if (e.offlineAt === null && e.activities.length === 0) {
    // The common case as one literal, in userView's key order (the rest-and-spread path below allocated three objects per entry).
    return {
      userId, status: e.status, statusSince: e.statusSince, lastSeen: e.lastSeen, lastActive: e.lastActive, override: e.override, visibility: e.visibility,
      lastSeenPrivacy: e.lastSeenPrivacy, devices, version: e.version, emittedAt: e.emittedAt,
    };
  }
  const { offlineAt, activities, ...rest } = e;
  return { userId, ...rest, devices, ...(offlineAt === null ? {} : { offlineAt }), ...(activities.length === 0 ? {} : { activities }) };
}

export class EntryFormatError extends Error {
  readonly code = 'ENTRY_FORMAT';
}

export function decodeEntry(encoded: Buffer | string): Entry {
  const bytes = typeof encoded === 'string' ? Buffer.from(encoded, 'utf8') : encoded;
  if (bytes[0] === JSON_OPEN_BRACE) return decodeJsonEntry(bytes.toString('utf8'));
  const tag = bytes[0];
  const resolver = USER_RESOLVERS.get(tag as number);
  if (resolver === undefined) throw new EntryFormatError(`unknown store entry format tag ${tag}`);
  const body = bytes.subarray(2);
  if (bytes[1] === KIND_USER) {
    const decoded = resolver === null ? userEntryType.fromBuffer(body) : userEntryType.fromBuffer(body, resolver);
    const d = decoded as Omit<UserState, 'sessions' | 'activities'> & {
      sessions: DecodedSession[]; activities: unknown[];
      emitted: (Omit<UserView, 'userId'> & { offlineAt: number | null; activities: readonly ActivityView[] }) | null;
    };
    // Field by field, in initialUserState's key order (activities last, as the core adds them).
    const base = {
      userId: d.userId, sessions: d.sessions.map(withoutEmptyArrivals), lastSeen: d.lastSeen, lastActivity: d.lastActivity,
      override: withoutNullAudit(d.override as NullAudit<UserState['override']>),
      visibility: withoutNullAudit(d.visibility as NullAudit<UserState['visibility']>),
      lastSeenPrivacy: withoutNullAudit(d.lastSeenPrivacy as NullAudit<UserState['lastSeenPrivacy']>),
      status: d.status, statusSince: d.statusSince, version: d.version,
    };
    const state: UserState = d.activities.length === 0 ? base : withUserFields(base, { activities: d.activities.map((a) => withoutNullAudit(a as NullAudit<ActivityRegister>) as ActivityRegister) });
    return { kind: 'user', state, emitted: d.emitted && emittedView(d.userId, d.emitted, state.sessions) };
  }
  if (bytes[1] === KIND_ROOM) {
    // Rooms changed layout only in format 6 (7 to 10 kept it); every earlier Avro tag wrote the format 5 layout.
    const decoded = (tag as number) >= TAG_AVRO_V6 ? roomEntryType.fromBuffer(body) : roomEntryType.fromBuffer(body, roomEntryFromV5);
    const { emitted, members, ...state } = decoded as RoomState & { members: DecodedMember[]; emitted: (Omit<RoomView, 'roomKind' | 'roomId'> & { members: DecodedMemberView[] }) | null };
    return {
      kind: 'room',
      state: { ...state, members: members.map(withoutNullEphemeral) },
      emitted: emitted && { roomKind: state.roomKind, roomId: state.roomId, ...emitted, members: emitted.members.map(withoutNullEphemeral) },
    };
  }
  throw new EntryFormatError(`unknown store entry kind ${bytes[1]}`);
}

/** A device emitted before gatewayId and active existed: unknown gateway, active (as snapshot readers assume). */
const withRouting = (d: Partial<DeviceView> & Pick<DeviceView, 'deviceId' | 'sessionId' | 'platform'>): DeviceView =>
  ({ ...d, gatewayId: d.gatewayId ?? null, active: d.active ?? true });

/** Format 1: `{"f":1,"k":"user"|"room","s":state,"e":emitted}`. */
function decodeJsonEntry(text: string): Entry {
  const raw = JSON.parse(text) as { f: number; k: 'user' | 'room'; s: unknown; e: unknown };
  if (raw.f !== JSON_FORMAT || (raw.k !== 'user' && raw.k !== 'room')) throw new EntryFormatError(`unknown store entry format ${raw.f}/${raw.k}`);
  // Written before the last-seen privacy setting existed: none set, and readers were told exact.
  const s = raw.s as UserState;
  const e = raw.e as UserView | null;
  return raw.k === 'user'
    ? { kind: 'user', state: { ...s, lastSeenPrivacy: s.lastSeenPrivacy ?? null }, emitted: e && { ...e, lastSeenPrivacy: e.lastSeenPrivacy ?? 'exact', devices: e.devices.map(withRouting) } }
    : { kind: 'room', state: raw.s as RoomState, emitted: raw.e as RoomView | null };
}

/** Format 1, kept for the compatibility test (a store written by an earlier version). */
export function encodeJsonEntry(entry: Entry): string {
  return JSON.stringify({ f: JSON_FORMAT, k: entry.kind, s: entry.state, e: entry.emitted });
}

/**
 * The task's checkpoint marker, stored under CHECKPOINT_KEY beside the entries (store and
 * changelog): when it was taken, where the snapshot topics' partitions ended then, so a new owner
 * reads what readers were told after it (see task-restore.ts), and the input offsets the
 * checkpoint covers, so a new owner whose restore found an older checkpoint than the group's
 * commit replays the inputs from there (markers written before this field: no input offsets).
 */
export interface CheckpointMarker {
  readonly at: number;
  readonly snapshotEnd: string | null;
  readonly roomSnapshotEnd: string | null;
  /** Input topic → the offset after the last record this checkpoint's state includes. */
  readonly inputs?: Readonly<Record<string, string>>;
}

export const CHECKPOINT_KEY = 'm/checkpoint';

export function encodeCheckpoint(m: CheckpointMarker): Buffer {
  return Buffer.from(JSON.stringify({ f: 1, ...m }), 'utf8');
}

export function decodeCheckpoint(encoded: Buffer | string): CheckpointMarker {
  const raw = JSON.parse(typeof encoded === 'string' ? encoded : encoded.toString('utf8')) as CheckpointMarker & { f: number };
  if (raw.f !== 1 || typeof raw.at !== 'number') throw new EntryFormatError('unknown checkpoint marker format');
  return { at: raw.at, snapshotEnd: raw.snapshotEnd ?? null, roomSnapshotEnd: raw.roomSnapshotEnd ?? null, ...(raw.inputs ? { inputs: raw.inputs } : {}) };
}
