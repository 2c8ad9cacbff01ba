import fc from 'fast-check';
import { ADAPTIVE_SHORT_THRESHOLDS, SHORT_THRESHOLDS } from './short-thresholds.fixture';
import type { PresenceConfig } from './config';
import type { UserEvent } from './events';
import { activityExpiries } from './activity';
import { events, HORIZON, U, userEvent } from './user-events.fixture';
import {
  applyEvent,
  effectiveStatus,
  effectiveStatusOfView,
  evolve,
  initialUserState,
  nextDeadline,
  nextSnapshotCheck,
  readView,
  readViewNextChange,
  sessionLiveUntil,
  snapshotDecision,
  tick,
  userView,
  viewChanged,
  viewDiffers,
} from './user';
import type { UserState, UserView } from './user';
import { deviceRoutes, deviceRoutesOfView } from './device-routes';

/**
 * Every law below holds for both offline rules: the fixed threshold, and the adaptive rule on the
 * same timescale (deadlines between 1.5 s and 4 s, around the fixed 3 s, from a short arrival history), which
 * adds a per-session arrival history to the merge.
 */
const RULES: readonly [string, PresenceConfig][] = [
  ['fixed offline rule', SHORT_THRESHOLDS],
  ['adaptive offline rule', ADAPTIVE_SHORT_THRESHOLDS],
];

/** What a reader can see, without the order-sensitive parts (version, statusSince, emittedAt). */
const visible = (v: UserView) => ({ ...v, version: 0, statusSince: null, emittedAt: 0 });
/** The merged registers and sessions: all MAX or LWW, so order-insensitive. */
const merged = (s: UserState) => ({ ...s, version: 0, status: null, statusSince: null });

/** A permutation of `es` with some events repeated. */
const shuffledWithDuplicates = (es: readonly UserEvent[]) =>
  fc
    .tuple(fc.array(fc.nat(), { minLength: es.length, maxLength: es.length }), fc.array(fc.nat(), { maxLength: 10 }))
    .map(([keys, dups]) => {
      const withDups = es.length === 0 ? [] : [...es, ...dups.map((d) => es[d % es.length] as UserEvent)];
      const tagged = withDups.map((e, i) => ({ e, k: keys[i % Math.max(1, keys.length)] ?? 0, i }));
      tagged.sort((a, b) => a.k - b.k || b.i - a.i);
      return tagged.map((t) => t.e);
    });

const RUNS = { numRuns: 300 };

describe.each(RULES)('%s', (_rule, base) => {
const cfg = base;
const fold = (es: readonly UserEvent[], c: PresenceConfig = cfg): UserState =>
  es.reduce((s, e) => evolve(s, e, c), initialUserState(U));

describe('merge laws (property)', () => {
  it('any permutation with any duplicates gives the same merged state and the same view', () => {
    fc.assert(
      fc.property(
        events.chain((es) => fc.tuple(fc.constant(es), shuffledWithDuplicates(es))),
        fc.integer({ min: 0, max: HORIZON + 15_000 }),
        ([es, other], now) => {
          const a = fold(es);
          const b = fold(other);
          expect(merged(b)).toEqual(merged(a));
          expect(visible(userView(b, now, cfg))).toEqual(visible(userView(a, now, cfg)));
          expect(effectiveStatus(b, now, cfg)).toBe(effectiveStatus(a, now, cfg));
        },
      ),
      RUNS,
    );
  });

  it('applying an event twice is the same as once (idempotence), returning the same object', () => {
    fc.assert(
      fc.property(events, userEvent, (es, e) => {
        const once = evolve(fold(es), e, cfg);
        expect(evolve(once, e, cfg)).toBe(once);
      }),
      RUNS,
    );
  });

  it('pruning (retention ≥ offline threshold) never changes the view, even for late events', () => {
    fc.assert(
      fc.property(events, events, fc.integer({ min: 0, max: HORIZON + 20_000 }), (first, late, pruneAt) => {
        const unpruned = fold([...first, ...late]);
        const pruned = late.reduce((s, e) => evolve(s, e, cfg), tick(fold(first), pruneAt, cfg));
        const now = Math.max(pruneAt, ...[...first, ...late].map((e) => ('observedAt' in e ? e.observedAt : e.setAt)));
        expect(visible(userView(pruned, now, cfg))).toEqual(visible(userView(unpruned, now, cfg)));
      }),
      RUNS,
    );
  });

  it('viewDiffers(emitted, state, now) ≡ viewChanged(emitted, userView(state, now))', () => {
    fc.assert(
      fc.property(events, events, fc.integer({ min: 0, max: HORIZON }), fc.integer({ min: 0, max: 5_000 }), (a, b, t, dt) => {
        const sa = tick(fold(a), t, cfg);
        const emitted = userView(sa, t, cfg);
        const sb = tick(fold([...a, ...b]), t + dt, cfg);
        expect(viewDiffers(emitted, sb, t + dt, cfg)).toBe(viewChanged(emitted, userView(sb, t + dt, cfg)));
      }),
      RUNS,
    );
  });

  it('a view built against the previous one is the same view, sharing each device that is equal (and the list, when all are)', () => {
    let shared = 0;
    let sharedLists = 0;
    fc.assert(
      fc.property(events, events, fc.integer({ min: 0, max: HORIZON }), fc.integer({ min: 0, max: 5_000 }), (a, b, t, dt) => {
        const previous = userView(tick(fold(a), t, cfg), t, cfg);
        const sb = tick(fold([...a, ...b]), t + dt, cfg);
        const built = userView(sb, t + dt, cfg, sb.version, previous);
        expect(built).toEqual(userView(sb, t + dt, cfg));
        for (const d of built.devices) {
          const equal = previous.devices.find((p) => JSON.stringify(p) === JSON.stringify(d));
          expect(d === equal).toBe(equal !== undefined);
          if (equal) shared++;
        }
        const sameList = JSON.stringify(built.devices) === JSON.stringify(previous.devices);
        expect(built.devices === previous.devices).toBe(sameList);
        if (sameList && built.devices.length > 0) sharedLists++;
      }),
      RUNS,
    );
    // The runs above must have exercised the sharing, not only fresh devices.
    expect(shared).toBeGreaterThan(50);
    expect(sharedLists).toBeGreaterThan(10);
  });
});

/** Instants around which a state's status or view may change: each candidate, one before, one after. */
function interesting(s: UserState, from: number, to: number): number[] {
  const ts = new Set<number>();
  const add = (t: number) => [t - 1, t, t + 1].forEach((x) => x > from && x < to && ts.add(x));
  if (s.override?.expiresAt != null) add(s.override.expiresAt);
  for (const t of activityExpiries(s.activities)) add(t);
  if (s.lastActivity !== null) add(s.lastActivity + cfg.awayAfterMs);
  for (const x of s.sessions) {
    if (x.lastSeen === null) continue;
    add(x.lastSeen + cfg.offlineAfterMs);
    add(sessionLiveUntil(x, cfg));
    if (x.lastActivity !== null) add(x.lastActivity + cfg.awayAfterMs); // the session turns idle
  }
  return [...ts].sort((a, b) => a - b);
}

describe('nextDeadline (property)', () => {
  it('is never later than the first instant at which effectiveStatus or the view changes', () => {
    fc.assert(
      fc.property(events, fc.integer({ min: 0, max: HORIZON }), fc.array(fc.integer({ min: 0, max: 40_000 }), { maxLength: 10 }), (es, now, offsets) => {
        const s = tick(fold(es), now, cfg);
        const d = nextDeadline(s, now, cfg);
        const until = d ?? now + 60_000;
        const status = effectiveStatus(s, now, cfg);
        const view = userView(s, now, cfg);
        const samples = [...interesting(s, now, until), ...offsets.map((o) => now + o).filter((t) => t < until)];
        for (const t of samples) {
          expect(effectiveStatus(s, t, cfg)).toBe(status);
          expect(viewChanged(view, userView(s, t, cfg))).toBe(false);
        }
        if (d !== null) expect(d).toBeGreaterThan(now);
      }),
      RUNS,
    );
  });
});

describe('readViewNextChange (property)', () => {
  it('no reader-visible change happens before it, for either viewer, and it is after now', () => {
    fc.assert(
      fc.property(
        events, fc.integer({ min: 0, max: HORIZON }), fc.integer({ min: 0, max: 20_000 }),
        fc.array(fc.integer({ min: 0, max: 40_000 }), { maxLength: 10 }), fc.constantFrom(0, 2_000),
        fc.option(fc.integer({ min: -10_000, max: 40_000 })),
        (es, emittedAt, readDelay, offsets, leaseGraceMs, watermarkOffset) => {
          const c: PresenceConfig = { ...cfg, leaseGraceMs };
          const view = userView(tick(fold(es), emittedAt, c), emittedAt, c);
          const now = emittedAt + readDelay;
          // The reader's watermark, when it knows one: anywhere around the emission.
          const w = watermarkOffset === null ? null : emittedAt + watermarkOffset;
          const d = readViewNextChange(view, now, c, w);
          const until = d ?? now + 60_000;
          const samples = [...offsets.map((o) => now + o), until - 1].filter((t) => t > now && t < until);
          for (const viewer of ['self', 'others'] as const) {
            const at = readView(view, now, c, viewer, w);
            for (const t of samples) expect(viewChanged(at, readView(view, t, c, viewer, w))).toBe(false);
          }
          if (d !== null) expect(d).toBeGreaterThan(now);
        },
      ),
      RUNS,
    );
  });
});

describe.each<[string, number, PresenceConfig['snapshotLeases']]>([
  ['per-user leases, leaseGraceMs 0', 0, 'per-user'],
  ['per-user leases, leaseGraceMs 2000', 2_000, 'per-user'],
  ['watermark leases (reader at W = now)', 0, 'watermark'],
])('snapshot lease: %s (property)', (_name, leaseGraceMs, snapshotLeases) => {
  const cfg: PresenceConfig = { ...base, leaseGraceMs, snapshotLeases };
  // In watermark mode the processor is current at every instant of the simulation, so the reader's
  // watermark is the instant itself; in per-user mode the reader knows none.
  const watermarkAt = (t: number): number | null => (snapshotLeases === 'watermark' ? t : null);
  it('a reader recomputing from the last emitted snapshot agrees with the state at every instant (status and device routes)', () => {
    // Events arrive in processing order; the processor applies them, fires its one timer per key at
    // min(nextDeadline, nextSnapshotCheck), and emits when snapshotDecision says so.
    const arrivals = fc.array(fc.tuple(fc.integer({ min: 0, max: 3_000 }), userEvent), { maxLength: 30 });
    fc.assert(
      fc.property(arrivals, (steps) => {
        let now = 0;
        let state = initialUserState(U);
        let emitted: UserView | null = null;
        let emissions = 0;
        const decide = () => {
          if (snapshotDecision(emitted, state, now, cfg).emit) {
            emitted = userView(state, now, cfg);
            emissions++;
          }
        };
        const timer = (): number | null => {
          const a = nextDeadline(state, now, cfg);
          const b = nextSnapshotCheck(emitted, state, cfg);
          if (a === null) return b;
          return b === null ? a : Math.min(a, b);
        };
        /** Advance the clock to `until`, firing due timers, checking the reader in between. */
        const advance = (until: number) => {
          for (;;) {
            const fire = timer();
            if (fire !== null) expect(fire).toBeGreaterThan(now);
            const next = fire !== null && fire <= until ? fire : until;
            // Where the reader's answer may change: the emitted leases and override expiry, and the state's deadlines.
            const leases: number[] = [];
            if (emitted !== null) {
              const e: UserView = emitted;
              for (const x of [e.lastSeen === null ? null : e.lastSeen + cfg.offlineAfterMs + leaseGraceMs, e.lastSeen === null ? null : e.lastSeen + cfg.offlineAfterMs, e.offlineAt ?? null, e.offlineAt == null ? null : e.offlineAt + leaseGraceMs, e.lastActive === null ? null : e.lastActive + cfg.awayAfterMs, e.override?.expiresAt ?? null, ...activityExpiries(e.activities)]) {
                if (x !== null) leases.push(x - 1, x, x + 1);
              }
            }
            for (const t of [now, ...interesting(state, now, next), ...leases, next - 1]) {
              if (emitted !== null && t >= now && t < next) {
                expect(effectiveStatusOfView(emitted, t, cfg, watermarkAt(t))).toBe(effectiveStatus(state, t, cfg));
                // Device presence is its own answer: the live sessions with gateway and active flag.
                expect(deviceRoutesOfView(emitted, t, cfg, watermarkAt(t))).toEqual(deviceRoutes(state, t, cfg));
              }
            }
            now = next;
            if (fire === null || fire > until) return;
            state = tick(state, now, cfg);
            decide();
          }
        };
        for (const [gap, e] of steps) {
          advance(now + gap);
          // Gateways stamp observedAt near the processing time: up to 6 s late, 0.5 s early.
          let stamped = e;
          if (e.type === 'heartbeat' || e.type === 'disconnect') {
            const observedAt = Math.max(0, now + 500 - (e.observedAt % 6_000));
            stamped = e.type === 'heartbeat' ? { ...e, observedAt, idleMs: Math.min(e.idleMs, observedAt) } : { ...e, observedAt };
          }
          state = applyEvent(state, stamped, now, cfg);
          decide();
        }
        advance(now + 30_000);
        return emissions >= 0;
      }),
      { numRuns: 300 },
    );
  });
});
});
