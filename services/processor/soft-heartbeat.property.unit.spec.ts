import fc from 'fast-check';
import { applyEvent, DEFAULT_CONFIG, initialUserState, type HeartbeatReceived, type PresenceConfig, type UserEvent, type UserState } from '../core';
import { ADAPTIVE_SHORT_THRESHOLDS, SHORT_THRESHOLDS } from '../core/short-thresholds.fixture';
import { events, heartbeat, U } from '../core/user-events.fixture';
import { advanceInPlace } from './soft-heartbeat';
import { durablyChanged } from './task';


const instantOf = (e: UserEvent) => ('observedAt' in e ? e.observedAt : e.setAt);

/** A state the processor could hold: the events applied in order of arrival, each at its own instant or later. */
function stateFrom(es: readonly UserEvent[], cfg: PresenceConfig): { state: UserState; at: number } {
  let at = 0;
  let state = initialUserState(U);
  for (const e of es) {
    at = Math.max(at, instantOf(e));
    state = applyEvent(state, e, at, cfg);
  }
  return { state, at };
}

/** Half the time a heartbeat of one of the state's own sessions (the case the in-place path is for), a bit later. */
const nextHeartbeat = (state: UserState, random: HeartbeatReceived, pickOwn: boolean, pick: number, dt: number): HeartbeatReceived => {
  const s = state.sessions[pick % Math.max(1, state.sessions.length)];
  if (!pickOwn || s === undefined) return random;
  const observedAt = (s.lastSeen ?? 0) + dt;
  const { gatewayId } = s;
  return { ...random, deviceId: s.deviceId, sessionId: s.sessionId, platform: s.platform, observedAt, idleMs: Math.min(random.idleMs, observedAt), ...(gatewayId == null ? {} : { gatewayId }) };
};

describe('advanceInPlace', () => {
  it.each<[string, PresenceConfig]>([['short thresholds', SHORT_THRESHOLDS], ['the defaults', DEFAULT_CONFIG]])(
    'does exactly what applyEvent does, or touches nothing (%s)',
    (_, cfg) => {
      const seen = { soft: 0, status: 0, opened: 0, 'not-soft': 0 };
      fc.assert(
        fc.property(events, heartbeat, fc.boolean(), fc.nat(), fc.integer({ min: 0, max: 4_000 }), fc.integer({ min: 0, max: 4_000 }), (es, random, pickOwn, pick, dt, lateBy) => {
          const { state, at } = stateFrom(es, cfg);
          const e = nextHeartbeat(state, random as HeartbeatReceived, pickOwn, pick, dt);
          const now = Math.max(at, e.observedAt) + lateBy;
          const expected = applyEvent(state, e, now, cfg);
          const copy = structuredClone(state);
          const result = advanceInPlace(copy, e, now, cfg);
          seen[result]++;
          if (result === 'not-soft') {
            expect(copy).toEqual(state);
          } else {
            expect(copy).toEqual(expected);
            // 'soft' is exactly the case the task need not save.
            expect(durablyChanged(state, expected)).toBe(result !== 'soft');
            // A new session and nothing else: the one the heartbeat names, added.
            if (result === 'opened') expect(copy.sessions.length).toBe(state.sessions.length + 1);
          }
        }),
        { numRuns: 3_000 },
      );
      // Both answers are exercised, so the law above is not vacuous.
      expect(seen.soft).toBeGreaterThan(150);
      expect(seen['not-soft']).toBeGreaterThan(150);
      expect(seen.opened).toBeGreaterThan(150);
      // On the short timescale heartbeats also bring users back from Away (about 1 % of runs).
      if (cfg === SHORT_THRESHOLDS) expect(seen.status).toBeGreaterThan(5);
    },
  );

  it('with the adaptive offline rule on (a new arrival history per heartbeat) never applies in place', () => {
    fc.assert(
      fc.property(events, heartbeat, fc.nat(), fc.integer({ min: 1, max: 4_000 }), (es, random, pick, dt) => {
        const { state, at } = stateFrom(es, ADAPTIVE_SHORT_THRESHOLDS);
        const e = nextHeartbeat(state, random as HeartbeatReceived, true, pick, dt);
        const copy = structuredClone(state);
        expect(advanceInPlace(copy, e, Math.max(at, e.observedAt), ADAPTIVE_SHORT_THRESHOLDS)).toBe('not-soft');
        expect(copy).toEqual(state);
      }),
      { numRuns: 300 },
    );
  });
});
