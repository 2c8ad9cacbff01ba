import { DEFAULT_CONFIG as cfg } from './config';
import { checkRoomEvent, checkUserEvent, idRejection, utf8Length } from './hygiene';
import type { Rejection } from './hygiene';

const NOW = 1_700_000_000_000;
const heartbeat = {
  type: 'heartbeat',
  userId: 'u1',
  deviceId: 'd1',
  sessionId: 's1',
  platform: 'web',
  observedAt: NOW - 10,
  idleMs: 5,
};
const disconnect = { type: 'disconnect', userId: 'u1', deviceId: 'd1', sessionId: 's1', platform: 'ios', observedAt: NOW };
const override = { type: 'override', userId: 'u1', status: 'Busy', customText: '  In a meeting  ', expiresAt: NOW + 60_000, setAt: NOW, eventId: 'e1' };
const visibility = { type: 'visibility', userId: 'u1', visibility: 'nobody', setAt: NOW, eventId: 'e2' };
const join = { type: 'join', roomKind: 'doc', roomId: '42', userId: 'u1', sessionId: 's1', observedAt: NOW, metadata: { z: '1', a: '2' } };

const rejected = (r: { ok: boolean; rejection?: Rejection }) => (r.ok ? null : r.rejection);

describe('checkUserEvent', () => {
  it('accepts and normalises each event type, keeping only known fields', () => {
    expect(checkUserEvent({ ...heartbeat, extra: 1 }, NOW, cfg)).toEqual({ ok: true, event: heartbeat });
    expect(checkUserEvent(disconnect, NOW, cfg)).toEqual({ ok: true, event: disconnect });
    expect(checkUserEvent(override, NOW, cfg)).toEqual({ ok: true, event: { ...override, customText: 'In a meeting' } });
    expect(checkUserEvent(visibility, NOW, cfg)).toEqual({ ok: true, event: visibility });
    const privacy = { type: 'lastSeenPrivacy', userId: 'u1', lastSeenPrivacy: 'coarse', setAt: NOW - 5, eventId: 'p1' };
    expect(checkUserEvent({ ...privacy, visibility: 'nobody' }, NOW, cfg)).toEqual({ ok: true, event: privacy });
  });
  it('clamps future timestamps to now + maxClockSkewMs', () => {
    const r = checkUserEvent({ ...heartbeat, observedAt: NOW + 3_600_000 }, NOW, cfg);
    expect(r.ok && r.event.type === 'heartbeat' && r.event.observedAt).toBe(NOW + 5_000);
    const o = checkUserEvent({ ...override, setAt: NOW + 10_000, expiresAt: NOW + 20_000 }, NOW, cfg);
    expect(o.ok && o.event.type === 'override' && [o.event.setAt, o.event.expiresAt]).toEqual([NOW + 5_000, NOW + 20_000]);
    const v = checkUserEvent({ ...visibility, setAt: NOW + 10_000 }, NOW, cfg);
    expect(v.ok && v.event.type === 'visibility' && v.event.setAt).toBe(NOW + 5_000);
  });
  it('clamps absurd idle times to maxIdleMs, and to observedAt', () => {
    const r = checkUserEvent({ ...heartbeat, idleMs: 10 * 365 * 86_400_000 }, NOW, cfg);
    expect(r.ok && r.event.type === 'heartbeat' && r.event.idleMs).toBe(cfg.maxIdleMs);
    const early = checkUserEvent({ ...heartbeat, observedAt: 1_000, idleMs: 5_000 }, NOW, cfg);
    expect(early.ok && early.event.type === 'heartbeat' && early.event.idleMs).toBe(1_000);
  });
  it('custom text: trimmed, blank becomes null, missing is null', () => {
    const blank = checkUserEvent({ ...override, customText: '   ' }, NOW, cfg);
    expect(blank.ok && blank.event.type === 'override' && blank.event.customText).toBeNull();
    const missing = checkUserEvent({ ...override, customText: undefined, expiresAt: undefined }, NOW, cfg);
    expect(missing.ok && missing.event.type === 'override' && [missing.event.customText, missing.event.expiresAt]).toEqual([null, null]);
    const max = checkUserEvent({ ...override, customText: ` ${'é'.repeat(100)} ` }, NOW, cfg);
    expect(max.ok).toBe(true);
    // 100 emoji are 200 UTF-16 units but 100 characters: accepted.
    expect(checkUserEvent({ ...override, customText: '😀'.repeat(100) }, NOW, cfg).ok).toBe(true);
  });
  it('audit: actor and reason kept on the three register writes when set (reason trimmed, blank dropped); absent or null leaves none', () => {
    const actor = { kind: 'admin', id: 'ops-1' };
    expect(checkUserEvent({ ...override, actor, reason: '  on call  ' }, NOW, cfg)).toEqual({ ok: true, event: { ...override, customText: 'In a meeting', actor, reason: 'on call' } });
    expect(checkUserEvent({ ...visibility, actor: { kind: 'user', id: 'u1' }, reason: '   ' }, NOW, cfg)).toEqual({ ok: true, event: { ...visibility, actor: { kind: 'user', id: 'u1' } } });
    const privacy = { type: 'lastSeenPrivacy', userId: 'u1', lastSeenPrivacy: 'hidden', setAt: NOW, eventId: 'p1' };
    expect(checkUserEvent({ ...privacy, actor: null, reason: null }, NOW, cfg)).toEqual({ ok: true, event: privacy });
    expect(checkUserEvent({ ...privacy, actor: { kind: 'integration', id: 'hr-sync', extra: 1 }, reason: 'é'.repeat(200) }, NOW, cfg)).toEqual({
      ok: true, event: { ...privacy, actor: { kind: 'integration', id: 'hr-sync' }, reason: 'é'.repeat(200) },
    });
    // A heartbeat has no audit: the fields are dropped like any unknown one.
    expect(checkUserEvent({ ...heartbeat, actor, reason: 'x' }, NOW, cfg)).toEqual({ ok: true, event: heartbeat });
  });

  const cases: readonly [string, unknown, Partial<Rejection>][] = [
    ['actor not an object', { ...override, actor: 'alice' }, { code: 'wrong-type', field: 'actor' }],
    ['actor an array', { ...visibility, actor: [] }, { code: 'wrong-type', field: 'actor' }],
    ['actor without kind', { ...override, actor: { id: 'alice' } }, { code: 'missing', field: 'actor.kind' }],
    ['unknown actor kind', { ...override, actor: { kind: 'robot', id: 'r2' } }, { code: 'not-allowed', field: 'actor.kind' }],
    ['actor without id', { ...visibility, actor: { kind: 'user' } }, { code: 'missing', field: 'actor.id' }],
    ['actor id not a string', { ...override, actor: { kind: 'user', id: 7 } }, { code: 'wrong-type', field: 'actor.id' }],
    ['actor id blank', { ...override, actor: { kind: 'user', id: ' ' } }, { code: 'empty', field: 'actor.id' }],
    ['actor id too long', { ...override, actor: { kind: 'admin', id: 'x'.repeat(129) } }, { code: 'too-long', field: 'actor.id' }],
    ['reason not a string', { ...override, reason: 5 }, { code: 'wrong-type', field: 'reason' }],
    ['reason too long', { ...visibility, reason: 'x'.repeat(201) }, { code: 'too-long', field: 'reason' }],
    ['reason with a control character', { ...override, reason: 'a\u0007b' }, { code: 'invalid-character', field: 'reason' }],
    ['not an object', 'hello', { code: 'not-an-object', field: '(root)' }],
    ['null', null, { code: 'not-an-object' }],
    ['an array', [], { code: 'not-an-object' }],
    ['unknown type', { ...heartbeat, type: 'ping' }, { code: 'unknown-type', field: 'type' }],
    ['missing userId', { ...heartbeat, userId: undefined }, { code: 'missing', field: 'userId' }],
    ['null deviceId', { ...heartbeat, deviceId: null }, { code: 'missing', field: 'deviceId' }],
    ['numeric sessionId', { ...heartbeat, sessionId: 7 }, { code: 'wrong-type', field: 'sessionId' }],
    ['empty userId', { ...heartbeat, userId: '' }, { code: 'empty', field: 'userId' }],
    ['blank userId', { ...heartbeat, userId: '   ' }, { code: 'empty', field: 'userId' }],
    ['id too long', { ...heartbeat, deviceId: 'x'.repeat(129) }, { code: 'too-long', field: 'deviceId' }],
    ['control character in id', { ...heartbeat, sessionId: 'a\nb' }, { code: 'invalid-character', field: 'sessionId' }],
    ['C1 control in id', { ...heartbeat, sessionId: 'a\u0085b' }, { code: 'invalid-character', field: 'sessionId' }],
    ['unknown platform', { ...heartbeat, platform: 'toaster' }, { code: 'not-allowed', field: 'platform' }],
    ['platform not a string', { ...heartbeat, platform: 1 }, { code: 'wrong-type', field: 'platform' }],
    ['missing platform', { ...heartbeat, platform: undefined }, { code: 'missing', field: 'platform' }],
    ['negative idle', { ...heartbeat, idleMs: -1 }, { code: 'negative', field: 'idleMs' }],
    ['fractional idle', { ...heartbeat, idleMs: 1.5 }, { code: 'not-an-integer', field: 'idleMs' }],
    ['missing idle', { ...heartbeat, idleMs: undefined }, { code: 'missing', field: 'idleMs' }],
    ['string timestamp', { ...heartbeat, observedAt: '2024-01-01' }, { code: 'wrong-type', field: 'observedAt' }],
    ['NaN timestamp', { ...disconnect, observedAt: NaN }, { code: 'not-an-integer', field: 'observedAt' }],
    ['infinite timestamp', { ...disconnect, observedAt: Infinity }, { code: 'not-an-integer', field: 'observedAt' }],
    ['negative timestamp', { ...disconnect, observedAt: -5 }, { code: 'negative', field: 'observedAt' }],
    ['unknown override status', { ...override, status: 'Sleeping' }, { code: 'not-allowed', field: 'status' }],
    ['custom text not a string', { ...override, customText: 5 }, { code: 'wrong-type', field: 'customText' }],
    ['custom text too long', { ...override, customText: 'x'.repeat(101) }, { code: 'too-long', field: 'customText' }],
    ['custom text with a newline', { ...override, customText: 'a\nb' }, { code: 'invalid-character', field: 'customText' }],
    ['expiry not after setAt', { ...override, expiresAt: NOW }, { code: 'invalid-range', field: 'expiresAt' }],
    ['expiry negative', { ...override, expiresAt: -1 }, { code: 'negative', field: 'expiresAt' }],
    ['missing setAt', { ...override, setAt: undefined }, { code: 'missing', field: 'setAt' }],
    ['missing eventId', { ...override, eventId: undefined }, { code: 'missing', field: 'eventId' }],
    ['unknown visibility', { ...visibility, visibility: 'friends' }, { code: 'not-allowed', field: 'visibility' }],
    ['unknown last-seen privacy', { type: 'lastSeenPrivacy', userId: 'u1', lastSeenPrivacy: 'friends', setAt: NOW, eventId: 'p' }, { code: 'not-allowed', field: 'lastSeenPrivacy' }],
    ['missing last-seen privacy', { type: 'lastSeenPrivacy', userId: 'u1', setAt: NOW, eventId: 'p' }, { code: 'missing', field: 'lastSeenPrivacy' }],
  ];
  it.each(cases)('rejects %s', (_name, raw, expected) => {
    const r = checkUserEvent(raw, NOW, cfg);
    expect(r.ok).toBe(false);
    expect(rejected(r)).toMatchObject(expected);
    expect(typeof rejected(r)?.reason).toBe('string');
  });
  it('never throws, even for a hostile input', () => {
    const hostile = Object.defineProperty({}, 'type', {
      get() {
        throw new Error('boom');
      },
    });
    expect(checkUserEvent(hostile, NOW, cfg)).toEqual({
      ok: false,
      rejection: { code: 'wrong-type', field: '(root)', reason: 'unreadable: Error: boom' },
    });
  });
});

describe('checkRoomEvent', () => {
  it('accepts a join with metadata, sorting its keys', () => {
    const r = checkRoomEvent(join, NOW, cfg);
    expect(r).toEqual({ ok: true, event: { ...join, metadata: { a: '2', z: '1' } } });
    expect(r.ok && Object.keys(r.event.metadata ?? {})).toEqual(['a', 'z']);
  });
  it('heartbeats may omit metadata; leave and sessionEnded drop it', () => {
    const hb = checkRoomEvent({ ...join, type: 'roomHeartbeat', metadata: undefined }, NOW, cfg);
    expect(hb.ok && hb.event.metadata).toBeNull();
    for (const type of ['leave', 'sessionEnded']) {
      const r = checkRoomEvent({ ...join, type }, NOW, cfg);
      expect(r.ok && r.event).toEqual({ ...join, type, metadata: null });
    }
  });
  it('an ephemeral event carries its state (or null: cleared) and a ttl, the default 5 s when none is given', () => {
    const r = checkRoomEvent({ ...join, type: 'ephemeral', ephemeral: { state: 'editing', target: 'title' }, ephemeralTtlMs: 8_000 }, NOW, cfg);
    expect(r.ok && r.event).toEqual({ ...join, type: 'ephemeral', metadata: null, ephemeral: { state: 'editing', target: 'title' }, ttlMs: 8_000 });
    const cleared = checkRoomEvent({ ...join, type: 'ephemeral', ephemeral: null }, NOW, cfg);
    expect(cleared.ok && cleared.event).toMatchObject({ type: 'ephemeral', ephemeral: null, ttlMs: 5_000 });
  });
  it('clamps the future and keeps "__proto__" as plain data', () => {
    const r = checkRoomEvent({ ...join, observedAt: NOW + 60_000, metadata: JSON.parse('{"__proto__":"x"}') }, NOW, cfg);
    expect(r.ok && r.event.observedAt).toBe(NOW + 5_000);
    expect(r.ok && Object.getPrototypeOf(r.event.metadata)).toBe(Object.prototype);
    expect(r.ok && Object.keys(r.event.metadata ?? {})).toEqual(['__proto__']);
  });
  it('accepts metadata at the limits: 16 entries, 1024 bytes', () => {
    const sixteen = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, 'v']));
    expect(checkRoomEvent({ ...join, metadata: sixteen }, NOW, cfg).ok).toBe(true);
    expect(checkRoomEvent({ ...join, metadata: { k: 'x'.repeat(1_023) } }, NOW, cfg).ok).toBe(true);
  });

  const cases: readonly [string, unknown, Partial<Rejection>][] = [
    ['not an object', 42, { code: 'not-an-object' }],
    ['unknown type', { ...join, type: 'wave' }, { code: 'unknown-type', field: 'type' }],
    ['type not a string', { ...join, type: 3 }, { code: 'unknown-type', field: 'type' }],
    ['roomKind with a slash', { ...join, roomKind: 'a/b' }, { code: 'invalid-character', field: 'roomKind' }],
    ['empty roomId', { ...join, roomId: '' }, { code: 'empty', field: 'roomId' }],
    ['missing sessionId', { ...join, sessionId: undefined }, { code: 'missing', field: 'sessionId' }],
    ['metadata not an object', { ...join, metadata: 'x' }, { code: 'wrong-type', field: 'metadata' }],
    ['metadata an array', { ...join, metadata: ['x'] }, { code: 'wrong-type', field: 'metadata' }],
    ['metadata value not a string', { ...join, metadata: { a: 1 } }, { code: 'wrong-type', field: 'metadata.a' }],
    ['ephemeral not an object', { ...join, type: 'ephemeral', ephemeral: 'typing' }, { code: 'wrong-type', field: 'ephemeral' }],
    ['ephemeral without a state', { ...join, type: 'ephemeral', ephemeral: {} }, { code: 'missing', field: 'ephemeral.state' }],
    ['ephemeral state with spaces (content, not a token)', { ...join, type: 'ephemeral', ephemeral: { state: 'hello world' } }, { code: 'invalid-character', field: 'ephemeral.state' }],
    ['ephemeral state too long', { ...join, type: 'ephemeral', ephemeral: { state: 'x'.repeat(129) } }, { code: 'too-long', field: 'ephemeral.state' }],
    ['ephemeral target not a string', { ...join, type: 'ephemeral', ephemeral: { state: 'typing', target: 7 } }, { code: 'wrong-type', field: 'ephemeral.target' }],
    ['ephemeral ttl above the maximum', { ...join, type: 'ephemeral', ephemeral: { state: 'typing' }, ephemeralTtlMs: 30_001 }, { code: 'invalid-range', field: 'ephemeralTtlMs' }],
    ['ephemeral ttl zero', { ...join, type: 'ephemeral', ephemeral: { state: 'typing' }, ephemeralTtlMs: 0 }, { code: 'invalid-range', field: 'ephemeralTtlMs' }],
    ['metadata empty key', { ...join, metadata: { '': 'x' } }, { code: 'empty', field: 'metadata' }],
    ['metadata control key', { ...join, metadata: { 'a\tb': 'x' } }, { code: 'invalid-character', field: 'metadata' }],
    [
      'metadata with 17 entries',
      { ...join, metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) },
      { code: 'too-many-entries', field: 'metadata' },
    ],
    ['metadata over 1024 bytes', { ...join, metadata: { k: 'x'.repeat(1_024) } }, { code: 'too-large', field: 'metadata' }],
    ['metadata over 1024 bytes of UTF-8', { ...join, metadata: { k: 'é'.repeat(512) } }, { code: 'too-large', field: 'metadata' }],
  ];
  it.each(cases)('rejects %s', (_name, raw, expected) => {
    expect(rejected(checkRoomEvent(raw, NOW, cfg))).toMatchObject(expected);
  });
});

describe('utf8Length', () => {
  it.each([
    ['', 0],
    ['abc', 3],
    ['é', 2],
    ['€', 3],
    ['😀', 4],
    ['\ud83d', 3], // lone high surrogate at the end
    ['\ud83dx', 4], // lone high surrogate before a non-surrogate
    ['\ude00', 3], // lone low surrogate
  ])('%j is %d bytes', (s, n) => {
    expect(utf8Length(s)).toBe(n);
    if (!/[\ud800-\udfff]/.test(s)) expect(utf8Length(s)).toBe(Buffer.byteLength(s));
  });
});

describe('idRejection', () => {
  it.each<[string, string | null]>([
    ['ok', null],
    ['   ', 'empty'],
    ['x'.repeat(cfg.maxIdLength + 1), 'too-long'],
    ['a\u0007b', 'invalid-character'],
  ])('%j → %s', (value, code) => {
    const r = idRejection('requestId', value, cfg);
    expect(r === null ? null : r.code).toBe(code);
    if (r) expect(r.field).toBe('requestId');
  });
});
