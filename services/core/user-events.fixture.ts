// Test-only: fast-check arbitraries for one user's events on a short horizon (the merge laws in
// user.property.unit.spec.ts, the processor's in-place heartbeat in soft-heartbeat.property.unit.spec.ts).
import fc from 'fast-check';
import type { Audit, UserEvent } from './events';
import { OVERRIDE_STATUSES, PLATFORMS } from './events';
import { ACTIVITY_SOURCES, ACTIVITY_TYPES } from './activity';

export const U = 'u';
export const HORIZON = 20_000;

export const heartbeat = fc.record({
  type: fc.constant('heartbeat' as const),
  userId: fc.constant(U),
  deviceId: fc.constantFrom('d1', 'd2'),
  sessionId: fc.constantFrom('s1', 's2', 's3'),
  platform: fc.constantFrom(...PLATFORMS),
  observedAt: fc.integer({ min: 0, max: HORIZON }),
  idleMs: fc.integer({ min: 0, max: 8_000 }),
  gatewayId: fc.constantFrom('gw-1', 'gw-2', null),
}).map(({ gatewayId, ...e }) => ({ ...e, idleMs: Math.min(e.idleMs, e.observedAt), ...(gatewayId === null ? {} : { gatewayId }) })); // as hygiene guarantees
export const disconnect = fc.record({
  type: fc.constant('disconnect' as const),
  userId: fc.constant(U),
  deviceId: fc.constantFrom('d1', 'd2'),
  sessionId: fc.constantFrom('s1', 's2', 's3'),
  platform: fc.constantFrom(...PLATFORMS),
  observedAt: fc.integer({ min: 0, max: HORIZON }),
});
/** The audit is content: writes that share (setAt, eventId) and value but not their audit must still converge. */
export const auditArb = fc.constantFrom<Audit>(
  {}, { actor: { kind: 'user', id: U } }, { actor: { kind: 'admin', id: 'ops' }, reason: 'support ticket' }, { reason: 'focus' },
);
export const override = fc
  .record({
    type: fc.constant('override' as const),
    userId: fc.constant(U),
    status: fc.constantFrom(...OVERRIDE_STATUSES),
    customText: fc.constantFrom(null, 'lunch', 'focus'),
    expiresIn: fc.option(fc.integer({ min: 1, max: 10_000 })),
    setAt: fc.integer({ min: 0, max: HORIZON }),
    eventId: fc.constantFrom('a', 'b', 'c'),
    audit: auditArb,
  })
  .map(({ expiresIn, audit, ...e }): UserEvent => ({ ...e, ...audit, expiresAt: expiresIn === null ? null : e.setAt + expiresIn }));
export const visibility = fc.record({
  type: fc.constant('visibility' as const),
  userId: fc.constant(U),
  visibility: fc.constantFrom('everyone' as const, 'nobody' as const),
  setAt: fc.integer({ min: 0, max: HORIZON }),
  eventId: fc.constantFrom('a', 'b'),
  audit: auditArb,
}).map(({ audit, ...e }): UserEvent => ({ ...e, ...audit }));
/** Activity writes: one register per source, set or cleared (null), with or without an expiry. */
export const activity = fc
  .record({
    type: fc.constant('activity' as const),
    userId: fc.constant(U),
    source: fc.constantFrom(...ACTIVITY_SOURCES),
    activity: fc.constantFrom(null, ...ACTIVITY_TYPES),
    customText: fc.constantFrom(null, 'standup', 'design review'),
    emoji: fc.constantFrom(null, '📅', '🎧'),
    expiresIn: fc.option(fc.integer({ min: 1, max: 10_000 })),
    setAt: fc.integer({ min: 0, max: HORIZON }),
    eventId: fc.constantFrom('a', 'b', 'c'),
    audit: auditArb,
  })
  .map(({ expiresIn, audit, ...e }): UserEvent => (e.activity === null
    ? { ...e, ...audit, customText: null, emoji: null, expiresAt: null } // as hygiene normalises a clear
    : { ...e, ...audit, expiresAt: expiresIn === null ? null : e.setAt + expiresIn }));
export const userEvent: fc.Arbitrary<UserEvent> = fc.oneof(
  { arbitrary: heartbeat, weight: 6 },
  { arbitrary: disconnect, weight: 2 },
  { arbitrary: override, weight: 2 },
  { arbitrary: visibility, weight: 1 },
  { arbitrary: activity, weight: 2 },
);
export const events = fc.array(userEvent, { maxLength: 25 });
