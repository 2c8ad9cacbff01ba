import fc from 'fast-check';
import { SHORT_THRESHOLDS } from './short-thresholds.fixture';
import { DEFAULT_CONFIG } from './config';
import type { PresenceConfig } from './config';
import type { Metadata, RoomEvent, RoomEventType } from './events';
import { roomKey } from './events';
import {
  applyRoomEvent,
  initialRoomState,
  isPresent,
  metadataEqual,
  readRoomView,
  readRoomViewNextChange,
  roomEvolve,
  roomIsGone,
  roomNextDeadline,
  roomNextSnapshotCheck,
  roomSnapshotDecision,
  roomTick,
  roomView,
  roomViewChanged,
  roomViewDiffers,
} from './room';
import type { RoomState, RoomView } from './room';

const cfg = DEFAULT_CONFIG;
const T = 1_700_000_000_000;

const ev = (type: RoomEventType, at: number, userId = 'u1', sessionId = 's1', metadata: Metadata | null = null): RoomEvent =>
  ({ type, roomKind: 'doc', roomId: '42', userId, sessionId, observedAt: at, metadata }) as RoomEvent;
const given = (events: readonly RoomEvent[], c: PresenceConfig = cfg): RoomState =>
  events.reduce((s, e) => roomEvolve(s, e, c), initialRoomState('doc', '42'));

describe('room rules', () => {
  it('keys rooms by kind/id', () => {
    expect(roomKey('doc', '42/a')).toBe('doc/42/a');
  });
  it('a join makes a member present until the expiry, a heartbeat extends it', () => {
    const s = given([ev('join', T, 'u1', 's1', { cursor: '1' })]);
    expect(roomView(s, T + 59_999, cfg)?.members).toEqual([
      { userId: 'u1', sessionId: 's1', joinedAt: T, lastSeen: T, metadata: { cursor: '1' } },
    ]);
    expect(roomView(s, T + 60_000, cfg)).toBeNull();
    const s2 = roomEvolve(s, ev('roomHeartbeat', T + 30_000), cfg);
    expect(roomView(s2, T + 60_000, cfg)?.members[0]).toMatchObject({ lastSeen: T + 30_000, metadata: { cursor: '1' } });
  });
  it('leave and sessionEnded remove the member at once; a later heartbeat brings it back', () => {
    for (const type of ['leave', 'sessionEnded'] as const) {
      const s = given([ev('join', T), ev(type, T + 1)]);
      expect(roomView(s, T + 2, cfg)).toBeNull();
      expect(roomView(roomEvolve(s, ev('roomHeartbeat', T + 2), cfg), T + 3, cfg)?.members).toHaveLength(1);
      expect(roomView(roomEvolve(s, ev('roomHeartbeat', T), cfg), T + 3, cfg)).toBeNull();
    }
  });
  it('a leave seen before its join (reordered) still wins over the older join', () => {
    const s = given([ev('leave', T + 5), ev('join', T)]);
    expect(roomView(s, T + 6, cfg)).toBeNull();
    expect(s.members[0]).toMatchObject({ joinedAt: T, lastSeen: T, leftAt: T + 5 });
  });
  it('joinedAt is the first time seen; a heartbeat without a join counts', () => {
    const s = given([ev('roomHeartbeat', T + 10), ev('join', T)]);
    expect(roomView(s, T + 11, cfg)?.members[0]).toMatchObject({ joinedAt: T, lastSeen: T + 10, metadata: {} });
  });
  it('metadata is LWW by observedAt; null means unchanged; ties break by content', () => {
    const s = given([ev('join', T, 'u1', 's1', { a: '1' }), ev('roomHeartbeat', T + 5, 'u1', 's1', { a: '2' })]);
    expect(s.members[0]?.metadata).toEqual({ a: '2' });
    expect(roomEvolve(s, ev('roomHeartbeat', T + 3, 'u1', 's1', { a: '3' }), cfg).members[0]?.metadata).toEqual({ a: '2' });
    expect(roomEvolve(s, ev('roomHeartbeat', T + 6), cfg).members[0]?.metadata).toEqual({ a: '2' });
    const tie = (x: Metadata, y: Metadata) => given([ev('join', T, 'u1', 's1', x), ev('join', T, 'u1', 's1', y)]).members[0]?.metadata;
    expect(tie({ a: '1' }, { a: '2' })).toEqual({ a: '2' });
    expect(tie({ a: '2' }, { a: '1' })).toEqual({ a: '2' });
    expect(tie({ b: '1' }, { a: '1' })).toEqual({ b: '1' });
    expect(tie({ a: '1' }, { b: '1' })).toEqual({ b: '1' });
    expect(tie({ a: '1' }, { a: '1', b: '1' })).toEqual({ a: '1', b: '1' });
    expect(tie({ a: '1', b: '1' }, { a: '1' })).toEqual({ a: '1', b: '1' });
    // A member first seen without metadata takes the first metadata that comes, whatever its time.
    const late = given([ev('join', T + 5), ev('roomHeartbeat', T, 'u1', 's1', { x: 'y' })]);
    expect(late.members[0]?.metadata).toEqual({ x: 'y' });
    // A member first seen through a leave also takes metadata from a later join.
    const left = given([ev('leave', T), ev('join', T + 1, 'u1', 's1', { x: 'y' })]);
    expect(left.members[0]?.metadata).toEqual({ x: 'y' });
  });
  it('duplicates are no-ops returning the same state', () => {
    const s = given([ev('join', T, 'u1', 's1', { a: '1' }), ev('leave', T + 5)]);
    expect(roomEvolve(s, ev('join', T, 'u1', 's1', { a: '1' }), cfg)).toBe(s);
    expect(roomEvolve(s, ev('leave', T + 5), cfg)).toBe(s);
    expect(roomEvolve(s, ev('leave', T + 4), cfg)).toBe(s);
    expect(roomEvolve(s, ev('leave', T + 6), cfg)).not.toBe(s);
  });
  it('bounds members per room: departed first, then least recently seen, then key', () => {
    const small = { ...cfg, maxMembersPerRoom: 2 };
    const keys = (s: RoomState) => s.members.map((m) => `${m.userId}/${m.sessionId}`);
    expect(keys(given([ev('join', T, 'a'), ev('join', T + 1, 'b'), ev('join', T + 2, 'c')], small))).toEqual(['b/s1', 'c/s1']);
    expect(keys(given([ev('join', T + 5, 'a'), ev('join', T, 'b'), ev('leave', T + 6, 'a'), ev('join', T + 1, 'c')], small))).toEqual(['b/s1', 'c/s1']);
    const same = given([ev('join', T + 5, 'a'), ev('join', T + 6, 'b'), ev('leave', T, 'c')], small);
    expect(keys(same)).toEqual(['a/s1', 'b/s1']);
    expect(same.version).toBe(2);
    expect(keys(given([ev('join', T, 'b'), ev('join', T, 'a'), ev('join', T, 'c')], small))).toEqual(['b/s1', 'c/s1']);
    // Two departed members, one only ever seen leaving.
    expect(keys(given([ev('leave', T + 5, 'a'), ev('join', T, 'b'), ev('leave', T + 1, 'b'), ev('join', T + 2, 'c')], small))).toEqual(['a/s1', 'c/s1']);
    expect(keys(given([ev('join', T, 'a'), ev('leave', T + 9, 'a'), ev('leave', T + 5, 'b'), ev('join', T + 2, 'c')], small))).toEqual(['a/s1', 'c/s1']);
  });
  it('isPresent needs a sighting after the last leave and within the expiry', () => {
    const s = given([ev('join', T)]);
    expect(isPresent(s.members[0]!, T + 59_999, cfg)).toBe(true);
    expect(isPresent(s.members[0]!, T + 60_000, cfg)).toBe(false);
  });
  it('roomTick prunes departed and expired members after the retention; applyRoomEvent ticks first', () => {
    const s = given([ev('join', T, 'a'), ev('leave', T + 1, 'a'), ev('join', T, 'b'), ev('join', T + 3_600_000, 'c')]);
    expect(roomTick(s, T + 3_600_000, cfg)).toBe(s);
    expect(roomTick(s, T + 3_600_001, cfg).members.map((m) => m.userId)).toEqual(['b', 'c']);
    const all = roomTick(s, T + 3_600_000 + 60_000 + 3_600_000, cfg);
    expect(roomIsGone(all)).toBe(true);
    expect(roomIsGone(s)).toBe(false);
    const applied = applyRoomEvent(s, ev('roomHeartbeat', T + 3_600_001, 'c'), T + 3_600_001, cfg);
    expect(applied.members.map((m) => m.userId)).toEqual(['b', 'c']);
  });
  it('roomNextDeadline is the next member expiry, then the prune instants', () => {
    expect(roomNextDeadline(initialRoomState('doc', '1'), T, cfg)).toBeNull();
    const s = given([ev('join', T, 'a'), ev('join', T + 10, 'b'), ev('leave', T + 5, 'c')]);
    expect(roomNextDeadline(s, T, cfg)).toBe(T + 60_000);
    expect(roomNextDeadline(s, T + 60_000, cfg)).toBe(T + 60_010);
    expect(roomNextDeadline(s, T + 60_010, cfg)).toBe(T + 5 + 3_600_000);
  });
  it('metadataEqual compares entries', () => {
    expect(metadataEqual(null, null)).toBe(true);
    expect(metadataEqual({ a: '1' }, null)).toBe(false);
    expect(metadataEqual(null, { a: '1' })).toBe(false);
    expect(metadataEqual({ a: '1' }, { a: '1' })).toBe(true);
    expect(metadataEqual({ a: '1' }, { a: '2' })).toBe(false);
    expect(metadataEqual({ a: '1' }, { b: '1' })).toBe(false);
    expect(metadataEqual({ a: '1' }, { a: '1', b: '2' })).toBe(false);
    // "__proto__" as plain data (as hygiene builds it) is compared as an own key.
    const proto: Metadata = Object.fromEntries([['__proto__', '1']]);
    expect(metadataEqual(proto, { x: '1' })).toBe(false);
    expect(metadataEqual(proto, Object.fromEntries([['__proto__', '1']]))).toBe(true);
  });
  it('throws only for an event type the compiler rules out', () => {
    expect(() => roomEvolve(initialRoomState('doc', '1'), { type: 'bogus' } as unknown as RoomEvent, cfg)).toThrow('unreachable');
  });
});

describe('room snapshots', () => {
  const s = given([ev('join', T, 'a', 's1', { c: '1' }), ev('join', T + 10, 'b')]);
  const view = roomView(s, T + 10, cfg) as RoomView;
  it('roomViewChanged looks at membership, joinedAt and metadata only', () => {
    expect(roomViewChanged(null, null)).toBe(false);
    expect(roomViewChanged(view, null)).toBe(true);
    expect(roomViewChanged(null, view)).toBe(true);
    expect(roomViewChanged(view, { ...view, version: 9, emittedAt: 1, members: view.members.map((m) => ({ ...m, lastSeen: 1 })) })).toBe(false);
    expect(roomViewChanged(view, { ...view, members: view.members.slice(1) })).toBe(true);
    const [a, b] = view.members as [RoomView['members'][0], RoomView['members'][0]];
    expect(roomViewChanged(view, { ...view, members: [{ ...a, metadata: {} }, b] })).toBe(true);
    expect(roomViewChanged(view, { ...view, members: [{ ...a, joinedAt: 0 }, b] })).toBe(true);
    expect(roomViewChanged(view, { ...view, members: [a, { ...b, sessionId: 'x' }] })).toBe(true);
    expect(roomViewChanged(view, { ...view, members: [a, { ...b, userId: 'x' }] })).toBe(true);
  });
  it('readRoomViewNextChange is the next member lease end after now, null when none remains', () => {
    expect(readRoomViewNextChange(null, T, cfg)).toBeNull();
    expect(readRoomViewNextChange(view, T, cfg)).toBe(T + 60_000);
    expect(readRoomViewNextChange(view, T + 60_000, cfg)).toBe(T + 60_010);
    expect(readRoomViewNextChange(view, T + 60_010, cfg)).toBeNull();
    expect(readRoomViewNextChange(view, T, { ...cfg, leaseGraceMs: 30_000 })).toBe(T + 90_000);
  });
  it('readRoomView drops members whose lease ran out and returns the same view when none did', () => {
    expect(readRoomView(null, T, cfg)).toBeNull();
    expect(readRoomView(view, T + 59_999, cfg)).toBe(view);
    expect(readRoomView(view, T + 60_000, cfg)?.members.map((m) => m.userId)).toEqual(['b']);
    expect(readRoomView({ ...view, members: [...view.members].reverse() }, T + 60_000, cfg)?.members.map((m) => m.userId)).toEqual(['b']);
    expect(readRoomView(view, T + 60_010, cfg)).toBeNull();
    const graced = { ...cfg, leaseGraceMs: 30_000 };
    expect(readRoomView(view, T + 89_999, graced)).toBe(view);
    expect(readRoomView(view, T + 90_000, graced)?.members).toHaveLength(1);
    expect(roomNextSnapshotCheck(view, roomEvolve(s, ev('roomHeartbeat', T + 5, 'a'), cfg), graced)).toBe(T + 90_000 - 15_000);
  });
  it('roomSnapshotDecision: changed, gone (tombstone), lease-refresh, unchanged', () => {
    expect(roomSnapshotDecision(null, s, T + 10, cfg)).toEqual({ emit: true, reason: 'changed' });
    expect(roomSnapshotDecision(null, initialRoomState('doc', '42'), T, cfg)).toEqual({ emit: false, reason: 'unchanged' });
    expect(roomSnapshotDecision(view, s, T + 11, cfg)).toEqual({ emit: false, reason: 'unchanged' });
    expect(roomSnapshotDecision(view, roomEvolve(s, ev('leave', T + 11, 'a'), cfg), T + 11, cfg)).toEqual({ emit: true, reason: 'changed' });
    const empty = roomEvolve(roomEvolve(s, ev('leave', T + 11, 'a'), cfg), ev('leave', T + 11, 'b'), cfg);
    expect(roomSnapshotDecision(view, empty, T + 11, cfg)).toEqual({ emit: true, reason: 'gone' });
    const beat = roomEvolve(s, ev('roomHeartbeat', T + 15_000, 'a'), cfg);
    expect(roomNextSnapshotCheck(view, beat, cfg)).toBe(T + 60_000 - 15_000);
    const both = roomEvolve(roomEvolve(s, ev('roomHeartbeat', T + 15_010, 'b'), cfg), ev('roomHeartbeat', T + 15_000, 'a'), cfg);
    expect(roomNextSnapshotCheck(view, both, cfg)).toBe(T + 60_000 - 15_000);
    expect(roomSnapshotDecision(view, beat, T + 44_999, cfg).emit).toBe(false);
    expect(roomSnapshotDecision(view, beat, T + 45_000, cfg)).toEqual({ emit: true, reason: 'lease-refresh' });
    expect(roomNextSnapshotCheck(null, beat, cfg)).toBeNull();
    expect(roomNextSnapshotCheck(view, s, cfg)).toBeNull();
    expect(roomViewDiffers(view, beat, T + 20, cfg)).toBe(false);
  });
});

describe('ephemeral room state (typing)', () => {
  const eph = (at: number, state: string | null, ttlMs = 5_000, userId = 'u1', sessionId = 's1', target: string | null = null): RoomEvent => ({
    type: 'ephemeral', roomKind: 'doc', roomId: '42', userId, sessionId, observedAt: at, metadata: null,
    ephemeral: state === null ? null : { state, target }, ttlMs,
  });
  // [name, events, instant, what the member shows]
  const cases: readonly [string, RoomEvent[], number, { state: string; target: string | null; expiresAt: number } | null][] = [
    ['typing shows until its ttl', [ev('join', T), eph(T + 1_000, 'typing')], T + 5_999, { state: 'typing', target: null, expiresAt: T + 6_000 }],
    ['and lapses at it', [ev('join', T), eph(T + 1_000, 'typing')], T + 6_000, null],
    ['a newer event refreshes it', [ev('join', T), eph(T + 1_000, 'typing'), eph(T + 4_000, 'typing')], T + 8_000, { state: 'typing', target: null, expiresAt: T + 9_000 }],
    ['null clears it at once', [ev('join', T), eph(T + 1_000, 'typing'), eph(T + 2_000, null)], T + 2_000, null],
    ['an older clear loses (LWW by observedAt)', [ev('join', T), eph(T + 2_000, 'editing', 5_000, 'u1', 's1', 'title'), eph(T + 1_000, null)], T + 3_000, { state: 'editing', target: 'title', expiresAt: T + 7_000 }],
    ['it makes the session present without a join', [eph(T, 'typing')], T + 1, { state: 'typing', target: null, expiresAt: T + 5_000 }],
  ];
  it.each(cases)('%s', (_name, events, at, shown) => {
    const s = given(events);
    const m = roomView(s, at, cfg)?.members[0];
    expect(m?.ephemeral ?? null).toEqual(shown);
    // Order and duplicates do not matter.
    expect(roomView(given([...events].reverse().concat(events)), at, cfg)?.members[0]?.ephemeral ?? null).toEqual(shown);
  });
  it('the processor is woken at the expiry, and a reader of a stale snapshot drops the state then', () => {
    const s = given([ev('join', T), eph(T + 1_000, 'typing', 2_000)]);
    expect(roomNextDeadline(s, T + 1_000, cfg)).toBe(T + 3_000);
    const view = roomView(s, T + 1_000, cfg);
    expect(readRoomView(view, T + 2_999, cfg)?.members[0]?.ephemeral?.state).toBe('typing');
    expect(readRoomView(view, T + 3_000, cfg)?.members[0]).not.toHaveProperty('ephemeral');
    expect(readRoomView(view, T + 3_000, cfg)?.members).toHaveLength(1); // still present, just not typing
    expect(readRoomViewNextChange(view, T + 1_000, cfg)).toBe(T + 3_000);
    expect(roomViewChanged(view, roomView(s, T + 3_000, cfg))).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------------
// Properties

const base: PresenceConfig = SHORT_THRESHOLDS;
const pcfg = base;
const HORIZON = 20_000;
const roomEvent: fc.Arbitrary<RoomEvent> = fc
  .record({
    type: fc.constantFrom<RoomEventType>('join', 'roomHeartbeat', 'leave', 'sessionEnded', 'ephemeral'),
    userId: fc.constantFrom('u1', 'u2', 'u3'),
    sessionId: fc.constantFrom('s1', 's2'),
    observedAt: fc.integer({ min: 0, max: HORIZON }),
    metadata: fc.option(fc.dictionary(fc.constantFrom('a', 'b'), fc.constantFrom('1', '2'), { maxKeys: 2 })),
    ephemeral: fc.option(fc.record({ state: fc.constantFrom('typing', 'editing'), target: fc.constantFrom(null, 'f1') })),
    ttlMs: fc.constantFrom(500, 1_500, 3_000),
  })
  .map((e): RoomEvent =>
    e.type === 'ephemeral'
      ? { type: 'ephemeral', roomKind: 'doc', roomId: '42', userId: e.userId, sessionId: e.sessionId, observedAt: e.observedAt, metadata: null, ephemeral: e.ephemeral, ttlMs: e.ttlMs }
      : ev(e.type, e.observedAt, e.userId, e.sessionId, e.type === 'join' || e.type === 'roomHeartbeat' ? e.metadata : null));
const roomEvents = fc.array(roomEvent, { maxLength: 25 });
const pgiven = (es: readonly RoomEvent[]) => given(es, pcfg);
const visible = (v: RoomView | null) => (v === null ? null : { ...v, version: 0, emittedAt: 0 });

describe('room laws (property)', () => {
  it('any permutation with any duplicates gives the same state and view', () => {
    fc.assert(
      fc.property(
        roomEvents.chain((es) => fc.tuple(fc.constant(es), fc.shuffledSubarray([...es, ...es], { minLength: es.length * 2 }), fc.shuffledSubarray(es, { minLength: es.length }))),
        fc.integer({ min: 0, max: HORIZON + 5_000 }),
        ([es, doubled, shuffled], now) => {
          const a = pgiven(es);
          for (const b of [pgiven(doubled), pgiven(shuffled)]) {
            expect({ ...b, version: 0 }).toEqual({ ...a, version: 0 });
            expect(visible(roomView(b, now, pcfg))).toEqual(visible(roomView(a, now, pcfg)));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('roomViewDiffers ≡ roomViewChanged on the built view', () => {
    fc.assert(
      fc.property(roomEvents, roomEvents, fc.integer({ min: 0, max: HORIZON }), fc.integer({ min: 0, max: 5_000 }), (a, b, t, dt) => {
        const emitted = roomView(pgiven(a), t, pcfg);
        const sb = pgiven([...a, ...b]);
        expect(roomViewDiffers(emitted, sb, t + dt, pcfg)).toBe(roomViewChanged(emitted, roomView(sb, t + dt, pcfg)));
      }),
      { numRuns: 300 },
    );
  });

  it('roomNextDeadline is never later than the first change of the view', () => {
    fc.assert(
      fc.property(roomEvents, fc.integer({ min: 0, max: HORIZON }), fc.array(fc.integer({ min: 0, max: 30_000 }), { maxLength: 10 }), (es, now, offsets) => {
        const s = roomTick(pgiven(es), now, pcfg);
        const d = roomNextDeadline(s, now, pcfg);
        const until = d ?? now + 60_000;
        const view = roomView(s, now, pcfg);
        const samples = [
          ...s.members.flatMap((m) => (m.lastSeen === null ? [] : [m.lastSeen + pcfg.roomMemberExpiryMs - 1])),
          ...s.members.flatMap((m) => (m.ephemeral == null ? [] : [m.ephemeral.expiresAt - 1, m.ephemeral.expiresAt])),
          until - 1, ...offsets.map((o) => now + o),
        ];
        for (const t of samples.filter((x) => x >= now && x < until)) {
          expect(roomViewChanged(view, roomView(s, t, pcfg))).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it.each([0, 2_000])('a reader filtering the last emitted room snapshot agrees with the state at every instant (leaseGraceMs %d)', (leaseGraceMs) => {
    const pcfg: PresenceConfig = { ...base, leaseGraceMs };
    const arrivals = fc.array(fc.tuple(fc.integer({ min: 0, max: 3_000 }), roomEvent), { maxLength: 30 });
    fc.assert(
      fc.property(arrivals, (steps) => {
        let now = 0;
        let state = initialRoomState('doc', '42');
        let emitted: RoomView | null = null;
        const decide = () => {
          if (roomSnapshotDecision(emitted, state, now, pcfg).emit) emitted = roomView(state, now, pcfg);
        };
        const timer = (): number | null => {
          const a = roomNextDeadline(state, now, pcfg);
          const b = roomNextSnapshotCheck(emitted, state, pcfg);
          if (a === null) return b;
          return b === null ? a : Math.min(a, b);
        };
        const keys = (v: RoomView | null) => (v === null ? [] : v.members.map((m) => `${m.userId}/${m.sessionId}:${m.ephemeral?.state ?? ''}:${m.ephemeral?.target ?? ''}`));
        const advance = (until: number) => {
          for (;;) {
            const fire = timer();
            if (fire !== null) expect(fire).toBeGreaterThan(now);
            const next = fire !== null && fire <= until ? fire : until;
            const leases = emitted === null ? [] : emitted.members.flatMap((m) => [m.lastSeen + pcfg.roomMemberExpiryMs - 1, m.lastSeen + pcfg.roomMemberExpiryMs + leaseGraceMs - 1, m.lastSeen + pcfg.roomMemberExpiryMs + leaseGraceMs]);
            const lapses = emitted === null ? [] : emitted.members.flatMap((m) => (m.ephemeral == null ? [] : [m.ephemeral.expiresAt - 1, m.ephemeral.expiresAt]));
            const samples = [now, next - 1, ...leases, ...lapses, ...state.members.flatMap((m) => (m.lastSeen === null ? [] : [m.lastSeen + pcfg.roomMemberExpiryMs - 1, m.lastSeen + pcfg.roomMemberExpiryMs]))];
            for (const t of samples.filter((x) => x >= now && x < next)) {
              expect(keys(readRoomView(emitted, t, pcfg))).toEqual(keys(roomView(state, t, pcfg)));
            }
            now = next;
            if (fire === null || fire > until) return;
            state = roomTick(state, now, pcfg);
            decide();
          }
        };
        for (const [gap, e] of steps) {
          advance(now + gap);
          const observedAt = Math.max(0, now + 500 - (e.observedAt % 6_000));
          state = applyRoomEvent(state, { ...e, observedAt }, now, pcfg);
          decide();
        }
        advance(now + 30_000);
      }),
      { numRuns: 300 },
    );
  });
});
