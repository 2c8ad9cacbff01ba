import { DEFAULT_CONFIG, applyEvent, evolve, initialUserState, snapshotDecision, userView, initialRoomState, applyRoomEvent, roomView, validateConfig, type PresenceConfig } from '../core';
import { decodeCheckpoint, decodeEntry, encodeCheckpoint, encodeEntry, encodeJsonEntry, EntryFormatError, type Entry } from './entry-codec';

const t0 = 1_700_000_000_000;
/** A format 3 entry (the encoder of commit 95abb99): erin, a web session heard at t0 through gw-1, the view emitted at t0. */
const V3_ERIN = '0300086572696e020c6c6170746f7006746162000280a0abfef9620280a0abfef96200020867772d31000280a0abfef9620280a0abfef9620000000280a0abfef9620202000280a0abfef9620280a0abfef9620280a0abfef9620000020c6c6170746f700674616200000280a0abfef962';
/** A format 4 entry (the encoder of commit 53ed7bc): fay, an ios session heard at t0 through gw-2, last seen hidden, the view emitted at t0. */
const V4_FAY = '040006666179020a70686f6e6506617070040280a0abfef9620280a0abfef96200020867772d32000280a0abfef9620280a0abfef9620000020480a0abfef962046531000280a0abfef9620402000280a0abfef9620280a0abfef9620280a0abfef962000004020a70686f6e650661707004000480a0abfef962';
/** A format 5 room entry (the encoder of commit 4dc8404): hal in doc/9 with a cursor, the view emitted at t0. */
const V5_ROOM = '050106646f630239020668616c067461620280a0abfef9620280a0abfef9620002020c637572736f72046333000280a0abfef962000202020668616c0674616280a0abfef96280a0abfef962020c637572736f7204633300000280a0abfef962';
/**
 * A format 5 entry (the encoder of commit a4ca427): hal, a web session through gw-3 (active) and an
 * android session through gw-4 idle for 400 s, both heard at t0, the view emitted at t0.
 */
const V5_HAL = '05000668616c040c6c6170746f7006746162000280a0abfef9620280a0abfef96200020867772d33000a70686f6e6506617070060280a0abfef9620280b6fafdf96200020867772d3400000280a0abfef9620280a0abfef962000000000280a0abfef9620402000280a0abfef9620280a0abfef9620280a0abfef962000000040c6c6170746f7006746162000a70686f6e650661707006000480a0abfef96200';
/** A format 5 entry (the encoder of commit a4ca427): gil, a web session through gw-3, Busy "call", visible, last seen coarse, the view emitted at t0. */
const V5_GIL = '05000667696c020c6c6170746f7006746162000280a0abfef9620280a0abfef96200020867772d3300000280a0abfef9620280a0abfef9620202020863616c6c0080a0abfef962046f31020080a0abfef962047631020280a0abfef962047031040280a0abfef9620802040280a0abfef9620280a0abfef9620280a0abfef9620202020863616c6c000002020c6c6170746f700674616200000880a0abfef96200';
/** A format 7 entry (the encoder of commit f81a042): jo, a web session through gw-5, visibility nobody set by jo, the view emitted at t0. */
const V7_JO = '0700046a6f020c6c6170746f7006746162000280a0abfef9620280a0abfef96200020867772d3500000280a0abfef9620280a0abfef96200020280a0abfef9620476370200046a6f0000000280a0abfef9620402000280a0abfef9620280a0abfef9620280a0abfef962000200020c6c6170746f700674616200020867772d3501000480a0abfef96200';
/** A format 7 entry (the encoder of commit d448ab3): ida, a web session through gw-5, Busy "call" set by herself ("standup"), the view emitted at t0. */
const V7_IDA = '070006696461020c6c6170746f7006746162000280a0abfef9620280a0abfef96200020867772d3500000280a0abfef9620280a0abfef9620202020863616c6c0080a0abfef962046f31020006696461020e7374616e6475700000040280a0abfef9620402040280a0abfef9620280a0abfef9620280a0abfef9620202020863616c6c000000020c6c6170746f700674616200020867772d3501000480a0abfef96200';
/** Activities from three sources (one cleared, one with an audit), and the view with those in force. */
const busyWithActivities = (() => {
  let s = initialUserState('jo');
  s = applyEvent(s, { type: 'heartbeat', userId: 'jo', deviceId: 'laptop', sessionId: 'tab', platform: 'web', observedAt: t0, idleMs: 0 }, t0, DEFAULT_CONFIG);
  s = applyEvent(s, { type: 'activity', userId: 'jo', source: 'calendar', activity: 'InAMeeting', customText: 'Design review', emoji: '📅', expiresAt: t0 + 3_600_000, setAt: t0, eventId: 'c1', actor: { kind: 'integration', id: 'calendar-sync' } }, t0, DEFAULT_CONFIG);
  s = applyEvent(s, { type: 'activity', userId: 'jo', source: 'manual', activity: 'Custom', customText: null, emoji: '🎧', expiresAt: null, setAt: t0, eventId: 'm1' }, t0, DEFAULT_CONFIG);
  s = applyEvent(s, { type: 'activity', userId: 'jo', source: 'callSystem', activity: null, customText: null, emoji: null, expiresAt: null, setAt: t0, eventId: 'k1', reason: 'call ended' }, t0, DEFAULT_CONFIG);
  return s;
})();
const adaptiveCfg = ((): PresenceConfig => {
  const r = validateConfig({ adaptiveOffline: { enabled: true } });
  if (!r.ok) throw new Error('adaptive config');
  return r.config;
})();
/** With the adaptive offline rule on: a session with an arrival history, a view with offlineAt. */
const adaptiveUser = [0, 15_000, 30_000, 45_000, 60_000, 75_000].reduce(
  (s, dt) => evolve(s, { type: 'heartbeat', userId: 'gus', deviceId: 'laptop', sessionId: 'tab', platform: 'web', observedAt: t0 + dt, idleMs: 0 }, adaptiveCfg),
  initialUserState('gus'),
);
const user = (() => {
  let s = initialUserState('alice');
  s = applyEvent(s, { type: 'heartbeat', userId: 'alice', deviceId: 'laptop', sessionId: 'tab-1', platform: 'web', observedAt: t0, idleMs: 0 }, t0, DEFAULT_CONFIG);
  s = applyEvent(s, { type: 'disconnect', userId: 'alice', deviceId: 'phone', sessionId: 's', platform: 'ios', observedAt: t0 + 1 }, t0 + 1, DEFAULT_CONFIG);
  s = applyEvent(s, { type: 'override', userId: 'alice', status: 'DoNotDisturb', customText: 'focus ✨', expiresAt: t0 + 60_000, setAt: t0, eventId: 'e1' }, t0 + 2, DEFAULT_CONFIG);
  s = applyEvent(s, { type: 'visibility', userId: 'alice', visibility: 'nobody', setAt: t0, eventId: 'e2' }, t0 + 3, DEFAULT_CONFIG);
  s = applyEvent(s, { type: 'lastSeenPrivacy', userId: 'alice', lastSeenPrivacy: 'coarse', setAt: t0, eventId: 'e3' }, t0 + 3, DEFAULT_CONFIG);
  return s;
})();
const typingRoom = applyRoomEvent(
  initialRoomState('doc', '8'),
  { type: 'ephemeral', roomKind: 'doc', roomId: '8', userId: 'ivy', sessionId: 'tab', observedAt: t0, metadata: null, ephemeral: { state: 'editing', target: 'title' }, ttlMs: 4_000 },
  t0, DEFAULT_CONFIG,
);
/** Every register written with an audit (who set it, why). */
const audited = (() => {
  let s = initialUserState('hana');
  s = applyEvent(s, { type: 'override', userId: 'hana', status: 'DoNotDisturb', customText: null, expiresAt: null, setAt: t0, eventId: 'a1', actor: { kind: 'user', id: 'hana' }, reason: 'focus' }, t0, DEFAULT_CONFIG);
  s = applyEvent(s, { type: 'visibility', userId: 'hana', visibility: 'nobody', setAt: t0, eventId: 'a2', actor: { kind: 'admin', id: 'ops-1' } }, t0, DEFAULT_CONFIG);
  s = applyEvent(s, { type: 'lastSeenPrivacy', userId: 'hana', lastSeenPrivacy: 'hidden', setAt: t0, eventId: 'a3', actor: { kind: 'integration', id: 'hr-sync' }, reason: 'policy' }, t0, DEFAULT_CONFIG);
  return s;
})();
const room = applyRoomEvent(initialRoomState('document', '42'), { type: 'join', roomKind: 'document', roomId: '42', userId: 'alice', sessionId: 'tab-1', observedAt: t0, metadata: { cursor: 'c1' } }, t0, DEFAULT_CONFIG);

const entries: Array<[string, Entry]> = [
  ['user, never emitted', { kind: 'user', state: initialUserState('bob'), emitted: null }],
  ['user with sessions, registers and an emitted view', { kind: 'user', state: user, emitted: userView(user, t0 + 3, DEFAULT_CONFIG) }],
  ['user with an arrival history and a view with offlineAt (adaptive rule)', { kind: 'user', state: adaptiveUser, emitted: userView(adaptiveUser, t0 + 75_000, adaptiveCfg) }],
  ['user whose registers carry their audit (actor, reason)', { kind: 'user', state: audited, emitted: userView(audited, t0, DEFAULT_CONFIG) }],
  ['user with activity registers (set, custom, cleared) and a view with activities', { kind: 'user', state: busyWithActivities, emitted: userView(busyWithActivities, t0, DEFAULT_CONFIG) }],
  ['room, never emitted', { kind: 'room', state: room, emitted: null }],
  ['room with an emitted view', { kind: 'room', state: room, emitted: roomView(room, t0, DEFAULT_CONFIG) }],
  ['room with a member typing (ephemeral state and view)', { kind: 'room', state: typingRoom, emitted: roomView(typingRoom, t0, DEFAULT_CONFIG) }],
];

describe('store entry format', () => {
  it.each(entries)('%s: binary round trip', (_name, entry) => {
    expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
  });

  it.each(entries)('%s: the JSON format of earlier versions still decodes, to the same entry', (_name, entry) => {
    const json = encodeJsonEntry(entry);
    expect(json.startsWith('{"f":1')).toBe(true);
    expect(decodeEntry(json)).toEqual(decodeEntry(encodeEntry(entry)));
    expect(decodeEntry(Buffer.from(json))).toEqual(entry);
  });

  it('format 2 (written before sessions had a gatewayId) still decodes, its sessions with gatewayId null', () => {
    // Written by the format 2 encoder: carol, a web session heard at t0 (idle 500 ms), an ios session
    // only disconnected at t0 + 1, and the view emitted at t0 + 1.
    const v2 = Buffer.from('02000a6361726f6c040c6c6170746f700a7461622d31000280a0abfef962029898abfef962000a70686f6e6502730400000282a0abfef962000280a0abfef962029898abfef9620000000280a0abfef9620402000280a0abfef9620280a0abfef962029898abfef9620000020c6c6170746f700a7461622d3100000482a0abfef962', 'hex');
    const decoded = decodeEntry(v2);
    expect(decoded.kind === 'user' && decoded.state.sessions).toEqual([
      { deviceId: 'laptop', sessionId: 'tab-1', platform: 'web', lastSeen: t0, lastActivity: t0 - 500, endedAt: null, gatewayId: null },
      { deviceId: 'phone', sessionId: 's', platform: 'ios', lastSeen: null, lastActivity: null, endedAt: t0 + 1, gatewayId: null },
    ]);
    expect(decoded.kind === 'user' && decoded.emitted?.devices).toEqual([{ deviceId: 'laptop', sessionId: 'tab-1', platform: 'web', gatewayId: null, active: true }]);
    expect(decodeEntry(encodeEntry(decoded))).toEqual(decoded);
  });

  it('format 3 (written before the last-seen privacy setting) still decodes: no register, the emitted view exact', () => {
    const v3 = Buffer.from(V3_ERIN, 'hex');
    const decoded = decodeEntry(v3);
    expect(decoded.kind === 'user' && decoded.state).toMatchObject({ userId: 'erin', lastSeenPrivacy: null, status: 'Online' });
    expect(decoded.kind === 'user' && decoded.state.sessions[0]?.gatewayId).toBe('gw-1');
    expect(decoded.kind === 'user' && decoded.emitted?.lastSeenPrivacy).toBe('exact');
    expect(decodeEntry(encodeEntry(decoded))).toEqual(decoded);
  });

  it('format 4 (written before the adaptive offline rule) still decodes: no arrivals, no offlineAt', () => {
    const decoded = decodeEntry(Buffer.from(V4_FAY, 'hex'));
    expect(decoded.kind === 'user' && decoded.state).toMatchObject({ userId: 'fay', lastSeenPrivacy: { lastSeenPrivacy: 'hidden' }, status: 'Online' });
    expect(decoded.kind === 'user' && decoded.state.sessions).toEqual([
      { deviceId: 'phone', sessionId: 'app', platform: 'ios', lastSeen: t0, lastActivity: t0, endedAt: null, gatewayId: 'gw-2' },
    ]);
    expect(decoded.kind === 'user' && decoded.emitted).not.toHaveProperty('offlineAt');
    expect(decodeEntry(encodeEntry(decoded))).toEqual(decoded);
  });

  it('format 5 rooms (written before ephemeral room state) still decode: no member has one', () => {
    const decoded = decodeEntry(Buffer.from(V5_ROOM, 'hex'));
    expect(decoded.kind === 'room' && decoded.state.members).toEqual([
      { userId: 'hal', sessionId: 'tab', joinedAt: t0, lastSeen: t0, leftAt: null, metadata: { cursor: 'c3' }, metadataAt: t0 },
    ]);
    expect(decoded.kind === 'room' && decoded.emitted?.members).toEqual([{ userId: 'hal', sessionId: 'tab', joinedAt: t0, lastSeen: t0, metadata: { cursor: 'c3' } }]);
    expect(decodeEntry(encodeEntry(decoded))).toEqual(decoded);
  });

  it('a typing member keeps its register and its view (and they are not empty)', () => {
    const decoded = decodeEntry(encodeEntry({ kind: 'room', state: typingRoom, emitted: roomView(typingRoom, t0, DEFAULT_CONFIG) }));
    expect(decoded.kind === 'room' && decoded.state.members[0]?.ephemeral).toEqual({ ephemeral: { state: 'editing', target: 'title' }, setAt: t0, expiresAt: t0 + 4_000 });
    expect(decoded.kind === 'room' && decoded.emitted?.members[0]?.ephemeral).toEqual({ state: 'editing', target: 'title', expiresAt: t0 + 4_000 });
  });

  it('format 5 (written before devices had a gateway and an active flag) still decodes: emitted devices through no known gateway, active', () => {
    const decoded = decodeEntry(Buffer.from(V5_HAL, 'hex'));
    if (decoded.kind !== 'user') throw new Error('a user entry');
    expect(decoded.state.sessions.map((x) => [x.deviceId, x.gatewayId, x.lastActivity])).toEqual([['laptop', 'gw-3', t0], ['phone', 'gw-4', t0 - 400_000]]);
    expect(decoded.emitted?.devices).toEqual([
      { deviceId: 'laptop', sessionId: 'tab', platform: 'web', gatewayId: null, active: true },
      { deviceId: 'phone', sessionId: 'app', platform: 'android', gatewayId: null, active: true },
    ]);
    expect(decodeEntry(encodeEntry(decoded))).toEqual(decoded);
    // What readers were told lacks the routing: the processor's next flush writes it.
    expect(snapshotDecision(decoded.emitted, decoded.state, t0 + 1, DEFAULT_CONFIG)).toEqual({ emit: true, reason: 'changed' });
    expect(userView(decoded.state, t0 + 1, DEFAULT_CONFIG).devices.map((d) => [d.gatewayId, d.active])).toEqual([['gw-3', true], ['gw-4', false]]);
  });

  it('keeps the emitted devices\' gateway and active flag', () => {
    const decoded = decodeEntry(encodeEntry(decodeEntry(Buffer.from(V5_HAL, 'hex'))));
    if (decoded.kind !== 'user') throw new Error('a user entry');
    const entry: Entry = { kind: 'user', state: decoded.state, emitted: userView(decoded.state, t0, DEFAULT_CONFIG) };
    const back = decodeEntry(encodeEntry(entry));
    expect(back.kind === 'user' && back.emitted?.devices.map((d) => [d.gatewayId, d.active])).toEqual([['gw-3', true], ['gw-4', false]]);
    expect(encodeEntry(entry)[0]).toBe(0x0a);
  });

  it('format 5 (written before the audit) still decodes: registers without actor or reason', () => {
    const decoded = decodeEntry(Buffer.from(V5_GIL, 'hex'));
    expect(decoded.kind === 'user' && decoded.state).toMatchObject({ userId: 'gil', status: 'Busy', version: 4 });
    expect(decoded.kind === 'user' && decoded.state.override).toEqual({ status: 'Busy', customText: 'call', expiresAt: null, setAt: t0, eventId: 'o1' });
    expect(decoded.kind === 'user' && decoded.state.visibility).toEqual({ visibility: 'everyone', setAt: t0, eventId: 'v1' });
    expect(decoded.kind === 'user' && decoded.state.lastSeenPrivacy).toEqual({ lastSeenPrivacy: 'coarse', setAt: t0, eventId: 'p1' });
    expect(decodeEntry(encodeEntry(decoded))).toEqual(decoded);
  });

  it('format 7 (written before visibility contacts) still decodes, and re-encodes as format 10', () => {
    const decoded = decodeEntry(Buffer.from(V7_JO, 'hex'));
    if (decoded.kind !== 'user') throw new Error('a user entry');
    expect(decoded.state.visibility).toEqual({ visibility: 'nobody', setAt: t0, eventId: 'v7', actor: { kind: 'user', id: 'jo' } });
    expect(decoded.emitted).toMatchObject({ userId: 'jo', visibility: 'nobody', devices: [{ deviceId: 'laptop', gatewayId: 'gw-5', active: true }] });
    const again = encodeEntry(decoded);
    expect(again[0]).toBe(0x0a);
    expect(decodeEntry(again)).toEqual(decoded);
  });

  it('format 10 keeps visibility contacts in the register and the emitted view', () => {
    const s = applyEvent(initialUserState('kim'), { type: 'visibility', userId: 'kim', visibility: 'contacts', setAt: t0, eventId: 'v9' }, t0, DEFAULT_CONFIG);
    const entry: Entry = { kind: 'user', state: s, emitted: userView(s, t0, DEFAULT_CONFIG) };
    const back = decodeEntry(encodeEntry(entry));
    expect(back).toEqual(entry);
    expect(back.kind === 'user' && [back.state.visibility?.visibility, back.emitted?.visibility]).toEqual(['contacts', 'contacts']);
  });

  it('format 7 (written before activities) still decodes: no activity registers, no activities emitted, everything else kept', () => {
    const decoded = decodeEntry(Buffer.from(V7_IDA, 'hex'));
    if (decoded.kind !== 'user' || decoded.emitted === null) throw new Error('expected an emitted user entry');
    expect(decoded.state.activities).toBeUndefined();
    expect(decoded.emitted.activities).toBeUndefined();
    expect(decoded.state.override).toMatchObject({ status: 'Busy', customText: 'call', actor: { kind: 'user', id: 'ida' }, reason: 'standup' });
    expect(decoded.state.sessions[0]?.gatewayId).toBe('gw-5');
    expect(decoded.emitted).toMatchObject({ status: 'Busy', devices: [{ deviceId: 'laptop', gatewayId: 'gw-5', active: true }] });
    // Written again, it is format 10 and reads back the same.
    const again = encodeEntry(decoded);
    expect(again[0]).toBe(10);
    expect(decodeEntry(again)).toEqual(decoded);
    // And the format 7 entry's state folds like a fresh one: the first activity applies.
    const s = applyEvent(decoded.state, { type: 'activity', userId: 'ida', source: 'callSystem', activity: 'InACall', customText: null, emoji: null, expiresAt: null, setAt: t0 + 1, eventId: 'k' }, t0 + 1, DEFAULT_CONFIG);
    expect(s.activities).toHaveLength(1);
  });

  // Formats 8 and 9 were written by the activities and contacts branches before their merge (each
  // encoder run on its branch: lu, a web session through gw-5, the view emitted at 1796000000000).
  it('format 8 (activities, written by the activities branch) and format 9 (contacts, by the contacts branch) still decode', () => {
    const v8 = decodeEntry(Buffer.from('0800046c75020c6c6170746f7006746162000280a0899fc5680280a0899fc56800020867772d3500000280a0899fc5680280a0899fc56800000002020206020c526576696577000280dac0a2c56880a0899fc568046131000000040280a0899fc5680402040280a0899fc5680280a0899fc5680280a0899fc568000000020c6c6170746f700674616200020867772d3501000480a0899fc56800020602020c526576696577000280dac0a2c56880a0899fc56800', 'hex'));
    if (v8.kind !== 'user') throw new Error('a user entry');
    expect(v8.state.activities?.map((a) => [a.source, a.activity, a.customText])).toEqual([['calendar', 'InAMeeting', 'Review']]);
    expect(v8.emitted).toMatchObject({ userId: 'lu', status: 'Busy', visibility: 'everyone', devices: [{ deviceId: 'laptop', gatewayId: 'gw-5' }] });
    const v9 = decodeEntry(Buffer.from('0900046c75020c6c6170746f7006746162000280a0899fc5680280a0899fc56800020867772d3500000280a0899fc5680280a0899fc56800020480a0899fc568047631000000000280a0899fc5680402000280a0899fc5680280a0899fc5680280a0899fc568000400020c6c6170746f700674616200020867772d3501000480a0899fc56800', 'hex'));
    if (v9.kind !== 'user') throw new Error('a user entry');
    expect(v9.state.visibility).toMatchObject({ visibility: 'contacts', eventId: 'v1' });
    expect(v9.state.activities).toBeUndefined();
    expect(v9.emitted).toMatchObject({ userId: 'lu', visibility: 'contacts' });
    for (const d of [v8, v9]) expect(decodeEntry(encodeEntry(d))).toEqual(d); // re-encoded as format 10
  });

  it('format 10 keeps the activity registers (with their audit and the cleared one) and the emitted activities', () => {
    const entry: Entry = { kind: 'user', state: busyWithActivities, emitted: userView(busyWithActivities, t0, DEFAULT_CONFIG) };
    const decoded = decodeEntry(encodeEntry(entry));
    if (decoded.kind !== 'user') throw new Error('user');
    expect(decoded.state.activities?.map((a) => [a.source, a.activity])).toEqual([['manual', 'Custom'], ['calendar', 'InAMeeting'], ['callSystem', null]]);
    expect(decoded.state.activities?.[1]?.actor).toEqual({ kind: 'integration', id: 'calendar-sync' });
    expect(decoded.emitted?.activities?.map((a) => a.activity)).toEqual(['InAMeeting', 'Custom']);
    expect(decoded.emitted?.status).toBe('Busy');
  });

  it('format 7 keeps each register\'s audit', () => {
    const decoded = decodeEntry(encodeEntry({ kind: 'user', state: audited, emitted: null }));
    expect(decoded.kind === 'user' && decoded.state.override).toMatchObject({ actor: { kind: 'user', id: 'hana' }, reason: 'focus' });
    expect(decoded.kind === 'user' && decoded.state.visibility).toEqual({ visibility: 'nobody', setAt: t0, eventId: 'a2', actor: { kind: 'admin', id: 'ops-1' } });
    expect(decoded.kind === 'user' && decoded.state.lastSeenPrivacy).toMatchObject({ actor: { kind: 'integration', id: 'hr-sync' }, reason: 'policy' });
  });

  it('the adaptive entry keeps its history and deadline (and they are not empty)', () => {
    const decoded = decodeEntry(encodeEntry({ kind: 'user', state: adaptiveUser, emitted: userView(adaptiveUser, t0 + 75_000, adaptiveCfg) }));
    expect(decoded.kind === 'user' && decoded.state.sessions[0]?.arrivals).toHaveLength(6);
    expect(decoded.kind === 'user' && decoded.emitted?.offlineAt).toBeGreaterThan(t0 + 75_000 + 20_000);
  });

  it("keeps each session's gatewayId; a state from before it existed is written with null", () => {
    let s = initialUserState('dan');
    s = applyEvent(s, { type: 'heartbeat', userId: 'dan', deviceId: 'laptop', sessionId: 'tab', platform: 'web', observedAt: t0, idleMs: 0, gatewayId: 'gw-7' }, t0, DEFAULT_CONFIG);
    const entry: Entry = { kind: 'user', state: s, emitted: null };
    expect(s.sessions[0]?.gatewayId).toBe('gw-7');
    expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
    const old = { ...s, sessions: s.sessions.map(({ gatewayId: _, ...rest }) => rest) };
    const decoded = decodeEntry(encodeEntry({ kind: 'user', state: old, emitted: null }));
    expect(decoded.kind === 'user' && decoded.state.sessions[0]?.gatewayId).toBeNull();
  });

  it('is several times smaller than the JSON format', () => {
    const entry = entries[1]?.[1] as Entry;
    expect(encodeEntry(entry).length * 2).toBeLessThan(Buffer.byteLength(encodeJsonEntry(entry)));
  });

  it.each([
    ['an unknown tag', Buffer.from([0x0b, 0x00])],
    ['an unknown kind', Buffer.from([0x03, 0x07])],
    ['an unknown JSON format', Buffer.from('{"f":9,"k":"user","s":{},"e":null}')],
  ])('refuses %s with EntryFormatError', (_name, bytes) => {
    expect(() => decodeEntry(bytes)).toThrow(EntryFormatError);
  });

  it('checkpoint markers round trip', () => {
    const marker = { at: t0, snapshotEnd: '42', roomSnapshotEnd: null };
    expect(decodeCheckpoint(encodeCheckpoint(marker))).toEqual(marker);
    expect(() => decodeCheckpoint('{"f":2}')).toThrow(EntryFormatError);
  });
});
