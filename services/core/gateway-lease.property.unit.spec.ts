/** Properties of the gateway a session remembers and of endGatewaySessions (fast-check). */
import fc from 'fast-check';
import { SHORT_THRESHOLDS as cfg } from './short-thresholds.fixture';
import type { UserEvent } from './events';
import { PLATFORMS } from './events';
import { effectiveStatus, endGatewaySessions, evolve, initialUserState, isOpen, userView, type UserState } from './user';

const HORIZON = 20_000;
const session = { userId: fc.constant('u'), deviceId: fc.constantFrom('d1', 'd2'), sessionId: fc.constantFrom('s1', 's2', 's3'), platform: fc.constantFrom(...PLATFORMS) };
const heartbeat = fc.record({
  type: fc.constant('heartbeat' as const), ...session,
  observedAt: fc.integer({ min: 0, max: HORIZON }), idleMs: fc.integer({ min: 0, max: 8_000 }),
  gatewayId: fc.constantFrom(null, 'g1', 'g2'),
}).map((e) => ({ ...e, idleMs: Math.min(e.idleMs, e.observedAt) }));
const disconnect = fc.record({ type: fc.constant('disconnect' as const), ...session, observedAt: fc.integer({ min: 0, max: HORIZON }) });
const events = fc.array(fc.oneof({ arbitrary: heartbeat, weight: 4 }, { arbitrary: disconnect, weight: 1 }), { maxLength: 25 }) as fc.Arbitrary<UserEvent[]>;

const fold = (es: readonly UserEvent[]): UserState => es.reduce((s, e) => evolve(s, e, cfg), initialUserState('u'));
const merged = (s: UserState) => ({ ...s, version: 0, status: null, statusSince: null });
const permuted = (es: readonly UserEvent[]) =>
  fc.tuple(fc.array(fc.nat(), { minLength: es.length, maxLength: es.length }), fc.array(fc.nat(), { maxLength: 8 })).map(([keys, dups]) => {
    const all = es.length === 0 ? [] : [...es, ...dups.map((d) => es[d % es.length] as UserEvent)];
    return all.map((e, i) => ({ e, k: keys[i % Math.max(1, keys.length)] ?? 0, i })).sort((a, b) => a.k - b.k || b.i - a.i).map((t) => t.e);
  });
const RUNS = { numRuns: 300 };

describe('gateway leases (property)', () => {
  it('the merge stays order- and duplicate-insensitive with gatewayIds (each session: the gateway of its latest heartbeat)', () => {
    fc.assert(fc.property(events.chain((es) => fc.tuple(fc.constant(es), permuted(es))), ([es, other]) => {
      expect(merged(fold(other))).toEqual(merged(fold(es)));
    }), RUNS);
  });

  it('ending a gateway after any permutation of the same events gives the same state and view', () => {
    fc.assert(fc.property(
      events.chain((es) => fc.tuple(fc.constant(es), permuted(es))), fc.constantFrom('g1', 'g2'), fc.integer({ min: 0, max: HORIZON }), fc.integer({ min: 0, max: 5_000 }),
      ([es, other], g, expiredAt, lag) => {
        const now = expiredAt + lag;
        const a = endGatewaySessions(fold(es), g, expiredAt, now, cfg);
        const b = endGatewaySessions(fold(other), g, expiredAt, now, cfg);
        expect(merged(b)).toEqual(merged(a));
        expect({ ...userView(b, now, cfg), version: 0 }).toEqual({ ...userView(a, now, cfg), version: 0 });
      },
    ), RUNS);
  });

  it('is idempotent, ends exactly the open sessions of that gateway heard at or before the expiry, and touches nothing else', () => {
    fc.assert(fc.property(events, fc.constantFrom('g1', 'g2'), fc.integer({ min: 0, max: HORIZON }), fc.integer({ min: 0, max: 5_000 }), (es, g, expiredAt, lag) => {
      const now = expiredAt + lag;
      const before = fold(es);
      const once = endGatewaySessions(before, g, expiredAt, now, cfg);
      expect(endGatewaySessions(once, g, expiredAt, now, cfg)).toBe(once);
      for (const s of once.sessions) {
        const was = before.sessions.find((x) => x.deviceId === s.deviceId && x.sessionId === s.sessionId);
        if (!was) continue; // pruned by the tick to now: dead for the retention anyway
        const hit = isOpen(was) && was.gatewayId === g && (was.lastSeen as number) <= expiredAt;
        expect(isOpen(s)).toBe(isOpen(was) && !hit);
        expect([s.lastSeen, s.lastActivity, s.gatewayId, s.platform]).toEqual([was.lastSeen, was.lastActivity, was.gatewayId, was.platform]);
        if (!hit) expect(s.endedAt).toBe(was.endedAt);
      }
      // Ending a session never makes anyone more present.
      if (effectiveStatus(before, now, cfg) === 'Offline') expect(effectiveStatus(once, now, cfg)).toBe('Offline');
    }), RUNS);
  });
});
