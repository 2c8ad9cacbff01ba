/**
 * The hand-written user entry writer against avsc's writer for the same schema: the same bytes for
 * generated states and views (every optional field present, null and absent; longs past 2^31 and
 * negative; strings short, long, non-ASCII and with astral characters), and the same refusals.
 */
import fc from 'fast-check';
import { DEFAULT_CONFIG, applyEvent, initialUserState, userView, type UserState, type UserView } from '../core';
import { avscUserEntryBytes, decodeEntry, encodeEntry, type UserEntry } from './entry-codec';
import { userEntryWriter } from './entry-writer';

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ minLength: 60, maxLength: 90 }),
  fc.string({ unit: 'grapheme', minLength: 30, maxLength: 60 }),
);
const long = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.integer({ min: -9007199254740990, max: 9007199254740990 }),
  fc.constant(1_796_640_541_648), fc.constant(-9007199254740990), fc.constant(9007199254740990), fc.constant(Number.MAX_SAFE_INTEGER),
);
const nullableLong = fc.option(long, { nil: null });
const nullableText = fc.option(text, { nil: null });
const actor = fc.record({ kind: fc.constantFrom('user' as const, 'admin' as const, 'integration' as const), id: text });
/** An audit as the core keeps it: each part present or absent (never null). */
const audit = fc.record({ actor, reason: text }, { requiredKeys: [] });
const platform = fc.constantFrom('web' as const, 'desktop' as const, 'ios' as const, 'android' as const, 'other' as const);
const status = fc.constantFrom('Online' as const, 'Away' as const, 'Busy' as const, 'DoNotDisturb' as const, 'Offline' as const);
const overrideStatus = fc.constantFrom('Available' as const, 'Busy' as const, 'DoNotDisturb' as const, 'AppearOffline' as const);
const visibility = fc.constantFrom('everyone' as const, 'nobody' as const, 'contacts' as const);
const lastSeenPrivacy = fc.constantFrom('exact' as const, 'coarse' as const, 'hidden' as const);
const activityType = fc.constantFrom('Presenting' as const, 'Focusing' as const, 'InACall' as const, 'InAMeeting' as const, 'Custom' as const);
const activitySource = fc.constantFrom('manual' as const, 'calendar' as const, 'callSystem' as const);

const session = fc.record({
  deviceId: text, sessionId: text, platform, lastSeen: nullableLong, lastActivity: nullableLong, endedAt: nullableLong,
  gatewayId: fc.option(text, { nil: null }), arrivals: fc.array(long, { maxLength: 5 }),
}, { requiredKeys: ['deviceId', 'sessionId', 'platform', 'lastSeen', 'lastActivity', 'endedAt'] });

const state: fc.Arbitrary<UserState> = fc.record({
  userId: text,
  sessions: fc.array(session, { maxLength: 4 }),
  lastSeen: nullableLong,
  lastActivity: nullableLong,
  override: fc.option(fc.tuple(fc.record({ status: overrideStatus, customText: nullableText, expiresAt: nullableLong, setAt: long, eventId: text }), audit).map(([r, a]) => ({ ...r, ...a })), { nil: null }),
  visibility: fc.option(fc.tuple(fc.record({ visibility, setAt: long, eventId: text }), audit).map(([r, a]) => ({ ...r, ...a })), { nil: null }),
  lastSeenPrivacy: fc.option(fc.tuple(fc.record({ lastSeenPrivacy, setAt: long, eventId: text }), audit).map(([r, a]) => ({ ...r, ...a })), { nil: null }),
  activities: fc.array(fc.tuple(fc.record({ source: activitySource, activity: fc.option(activityType, { nil: null }), customText: nullableText, emoji: nullableText, expiresAt: nullableLong, setAt: long, eventId: text }), audit).map(([r, a]) => ({ ...r, ...a })), { maxLength: 3 }),
  status,
  statusSince: nullableLong,
  version: long,
}, { requiredKeys: ['userId', 'sessions', 'lastSeen', 'lastActivity', 'override', 'visibility', 'lastSeenPrivacy', 'status', 'statusSince', 'version'] }) as fc.Arbitrary<UserState>;

const view: fc.Arbitrary<UserView> = fc.record({
  userId: text,
  status,
  statusSince: nullableLong,
  lastSeen: nullableLong,
  lastActive: nullableLong,
  override: fc.option(fc.record({ status: overrideStatus, customText: nullableText, expiresAt: nullableLong }), { nil: null }),
  visibility,
  lastSeenPrivacy,
  devices: fc.array(fc.record({ deviceId: text, sessionId: text, platform, gatewayId: fc.option(text, { nil: null }), active: fc.boolean() }, { requiredKeys: ['deviceId', 'sessionId', 'platform'] }), { maxLength: 4 }),
  version: long,
  emittedAt: long,
  offlineAt: nullableLong,
  activities: fc.array(fc.record({ activity: activityType, source: activitySource, customText: nullableText, emoji: nullableText, expiresAt: nullableLong, setAt: long }), { maxLength: 3 }),
}, { requiredKeys: ['userId', 'status', 'statusSince', 'lastSeen', 'lastActive', 'override', 'visibility', 'devices', 'version', 'emittedAt'] }) as fc.Arbitrary<UserView>;

const entry: fc.Arbitrary<UserEntry> = fc.record({ kind: fc.constant('user' as const), state, emitted: fc.option(view, { nil: null }) });

describe('the hand-written user entry writer', () => {
  it('writes what avsc writes for the same entry, for generated states and views', () => {
    fc.assert(fc.property(entry, (e) => {
      let reference: Buffer | null = null;
      try {
        reference = avscUserEntryBytes(e);
      } catch {
        // avsc refuses it (a long outside its safe range): so must the writer.
      }
      if (reference === null) expect(() => encodeEntry(e)).toThrow(/not a long/);
      else expect(encodeEntry(e).toString('hex')).toBe(reference.toString('hex'));
    }), { numRuns: 2_000 });
  });

  it('writes what avsc writes for states the rules made (two devices, a DND override, a view)', () => {
    const t0 = 1_700_000_000_000;
    let s = initialUserState('ana');
    s = applyEvent(s, { type: 'heartbeat', userId: 'ana', deviceId: 'laptop', sessionId: 'tab', platform: 'web', observedAt: t0, idleMs: 0, gatewayId: 'gw-1' }, t0, DEFAULT_CONFIG);
    s = applyEvent(s, { type: 'heartbeat', userId: 'ana', deviceId: 'phone', sessionId: 'app', platform: 'ios', observedAt: t0 + 5, idleMs: 90_000 }, t0 + 5, DEFAULT_CONFIG);
    s = applyEvent(s, { type: 'override', userId: 'ana', status: 'DoNotDisturb', customText: 'focus ✨', expiresAt: t0 + 60_000, setAt: t0, eventId: 'e1', actor: { kind: 'user', id: 'ana' } }, t0 + 6, DEFAULT_CONFIG);
    const e: UserEntry = { kind: 'user', state: s, emitted: userView(s, t0 + 6, DEFAULT_CONFIG) };
    expect(encodeEntry(e).equals(avscUserEntryBytes(e))).toBe(true);
    expect(decodeEntry(encodeEntry(e))).toEqual(e);
  });

  it.each<[string, (s: UserState) => UserState, RegExp]>([
    ['a fractional long', (s) => ({ ...s, version: 1.5 }), /version: not a long/],
    ['a long past 2^53', (s) => ({ ...s, lastSeen: 2 ** 60 }), /lastSeen: not a long/],
    ['an unknown status', (s) => ({ ...s, status: 'Gone' as never }), /status: not a symbol/],
    ['a missing device id', (s) => ({ ...s, sessions: [{ sessionId: 's', platform: 'web', lastSeen: 1, lastActivity: 1, endedAt: null } as never] }), /sessions.deviceId: not a string/],
  ])('refuses %s, as avsc does', (_name, spoil, message) => {
    const e: UserEntry = { kind: 'user', state: spoil(initialUserState('bo')), emitted: null };
    expect(() => avscUserEntryBytes(e)).toThrow();
    expect(() => encodeEntry(e)).toThrow(message);
  });

  it('reports a buffer too small as a negative end and writes nothing past it', () => {
    const e: UserEntry = { kind: 'user', state: initialUserState('a-user-with-a-longer-id'), emitted: null };
    const full = avscUserEntryBytes(e).length - 2; // without the entry's two header bytes
    const buf = Buffer.alloc(full + 8, 0xee);
    const small = buf.subarray(0, full - 3);
    expect(userEntryWriter.encode(e, small, 0)).toBeLessThan(0);
    expect(buf.subarray(full - 3).every((b) => b === 0xee)).toBe(true);
    expect(userEntryWriter.encode(e, buf, 0)).toBe(full);
  });
});
