/** The gateway-lease rule: endGatewaySessions, and the gateway a session remembers. */
import { DEFAULT_CONFIG as cfg } from './config';
import type { HeartbeatReceived, UserEvent } from './events';
import { checkUserEvent } from './hygiene';
import { applyEvent, effectiveStatus, endGatewaySessions, initialUserState, isOpen, openSessionGateways, type UserState } from './user';

const t0 = 1_700_000_000_000;
const hb = (sessionId: string, observedAt: number, gatewayId: string | null | undefined, deviceId = 'laptop'): HeartbeatReceived => ({
  type: 'heartbeat', userId: 'u', deviceId, sessionId, platform: 'web', observedAt, idleMs: 0, ...(gatewayId === undefined ? {} : { gatewayId }),
});
const fold = (events: UserEvent[], now = t0 + 10_000): UserState =>
  events.reduce((s, e) => applyEvent(s, e, Math.max(now, 'observedAt' in e ? e.observedAt : 0), cfg), initialUserState('u'));
const openIds = (s: UserState) => s.sessions.filter(isOpen).map((x) => x.sessionId);

describe('a session remembers the gateway of its latest heartbeat', () => {
  it.each<[string, UserEvent[], string | null]>([
    ['one heartbeat', [hb('s', t0, 'gw-a')], 'gw-a'],
    ['no gatewayId', [hb('s', t0, undefined)], null],
    ['a newer heartbeat through another gateway', [hb('s', t0, 'gw-a'), hb('s', t0 + 1, 'gw-b')], 'gw-b'],
    ['an older heartbeat through another gateway arriving late', [hb('s', t0 + 1, 'gw-b'), hb('s', t0, 'gw-a')], 'gw-b'],
    ['a tie on observedAt: the greatest id', [hb('s', t0, 'gw-b'), hb('s', t0, 'gw-a')], 'gw-b'],
    ['a tie on observedAt, the other order', [hb('s', t0, 'gw-a'), hb('s', t0, 'gw-b')], 'gw-b'],
    ['a tie with an unknown gateway: the known one', [hb('s', t0, 'gw-a'), hb('s', t0, null)], 'gw-a'],
    ['a newer heartbeat without gatewayId forgets it', [hb('s', t0, 'gw-a'), hb('s', t0 + 1, null)], null],
  ])('%s', (_name, events, expected) => {
    expect(fold(events).sessions[0]?.gatewayId).toBe(expected);
  });

  it('a changed gateway alone is a change (new version); a duplicate is not', () => {
    const a = fold([hb('s', t0, 'gw-a')]);
    const b = applyEvent(a, hb('s', t0, 'gw-b'), t0 + 10_000, cfg);
    expect(b.version).toBe(a.version + 1);
    expect(applyEvent(b, hb('s', t0, 'gw-b'), t0 + 10_000, cfg)).toBe(b);
  });

  it('openSessionGateways lists the gateways of open sessions, each once', () => {
    const s = fold([hb('s1', t0, 'gw-a'), hb('s2', t0, 'gw-a', 'phone'), hb('s3', t0, 'gw-b', 'tablet'), hb('s4', t0, null, 'tv'),
      hb('s5', t0, 'gw-c', 'watch'), { type: 'disconnect', userId: 'u', deviceId: 'watch', sessionId: 's5', platform: 'web', observedAt: t0 + 1 }]);
    expect(openSessionGateways(s).sort()).toEqual(['gw-a', 'gw-b']);
  });
});

describe('endGatewaySessions(state, gatewayId, leaseExpiredAt, now, cfg)', () => {
  const expiredAt = t0 + 10_000;
  const now = expiredAt + 100;
  it.each<[string, UserEvent[], string[]]>([
    ['ends the only session through the gateway', [hb('s1', t0, 'gw-a')], []],
    ['a session seen exactly at the expiry is ended', [hb('s1', expiredAt, 'gw-a')], []],
    ['a session that heart-beat after the expiry (the gateway came back) is untouched', [hb('s1', expiredAt + 1, 'gw-a')], ['s1']],
    ['a session whose latest heartbeat came through another gateway is untouched', [hb('s1', t0, 'gw-a'), hb('s1', t0 + 5, 'gw-b')], ['s1']],
    ['a session with no gateway is untouched', [hb('s1', t0, null)], ['s1']],
    ['only the sessions of that gateway end', [hb('s1', t0, 'gw-a'), hb('s2', t0, 'gw-b', 'phone'), hb('s3', t0, 'gw-a', 'tablet')], ['s2']],
    ['a session that moved to this gateway is ended', [hb('s1', t0, 'gw-b'), hb('s1', t0 + 5, 'gw-a')], []],
  ])('%s', (_name, events, open) => {
    expect(openIds(endGatewaySessions(fold(events, now), 'gw-a', expiredAt, now, cfg))).toEqual(open);
  });

  it('is a clean disconnect at the expiry: Offline at once, recorded at now, with a new version', () => {
    const before = fold([hb('s1', t0, 'gw-a')], t0 + 1);
    expect(effectiveStatus(before, now, cfg)).toBe('Online');
    const after = endGatewaySessions(before, 'gw-a', expiredAt, now, cfg);
    expect(after.sessions[0]?.endedAt).toBe(expiredAt);
    expect([after.status, after.statusSince, effectiveStatus(after, now, cfg)]).toEqual(['Offline', now, 'Offline']);
    expect(after.version).toBeGreaterThan(before.version);
  });

  it('keeps the user Online through a session on another gateway', () => {
    const after = endGatewaySessions(fold([hb('s1', t0, 'gw-a'), hb('s2', t0 + 9_000, 'gw-b', 'phone')]), 'gw-a', expiredAt, now, cfg);
    expect([openIds(after), effectiveStatus(after, now, cfg)]).toEqual([['s2'], 'Online']);
  });

  it('is replay-safe: applying it again returns the state itself', () => {
    const once = endGatewaySessions(fold([hb('s1', t0, 'gw-a'), hb('s2', t0, 'gw-a', 'phone')]), 'gw-a', expiredAt, now, cfg);
    expect(endGatewaySessions(once, 'gw-a', expiredAt, now, cfg)).toBe(once);
    expect(endGatewaySessions(once, 'gw-a', expiredAt, now + 5_000, cfg)).toBe(once);
  });

  it('returns the state itself when nothing matches', () => {
    const s = fold([hb('s1', t0, 'gw-b')]);
    expect(endGatewaySessions(s, 'gw-a', expiredAt, now, cfg)).toBe(s);
    expect(endGatewaySessions(initialUserState('u'), 'gw-a', expiredAt, now, cfg)).toEqual(initialUserState('u'));
  });

  it('an old heartbeat of the dead gateway arriving after the end does not reopen the session', () => {
    const ended = endGatewaySessions(fold([hb('s1', t0, 'gw-a')]), 'gw-a', expiredAt, now, cfg);
    expect(openIds(applyEvent(ended, hb('s1', t0 + 3_000, 'gw-a'), now + 1, cfg))).toEqual([]);
    expect(openIds(applyEvent(ended, hb('s1', now + 1, 'gw-b'), now + 1, cfg))).toEqual(['s1']);
  });

  it('an expiry later than now is taken as now', () => {
    const after = endGatewaySessions(fold([hb('s1', t0, 'gw-a')]), 'gw-a', now + 60_000, now, cfg);
    expect(after.sessions[0]?.endedAt).toBe(now);
  });
});

describe('hygiene of gatewayId', () => {
  const raw = { type: 'heartbeat', userId: 'u', deviceId: 'd', sessionId: 's', platform: 'web', observedAt: t0, idleMs: 0 };
  it.each<[string, unknown, { ok: boolean; gatewayId?: string; field?: string }]>([
    ['absent', undefined, { ok: true }],
    ['null', null, { ok: true }],
    ['an id', 'gw-1', { ok: true, gatewayId: 'gw-1' }],
    ['blank', '  ', { ok: false, field: 'gatewayId' }],
    ['too long', 'g'.repeat(cfg.maxIdLength + 1), { ok: false, field: 'gatewayId' }],
    ['not a string', 7, { ok: false, field: 'gatewayId' }],
  ])('%s', (_name, gatewayId, expected) => {
    const r = checkUserEvent(gatewayId === undefined ? raw : { ...raw, gatewayId }, t0, cfg);
    if (expected.ok) {
      expect(r.ok && r.event.type === 'heartbeat' && (r.event.gatewayId ?? null)).toBe(expected.gatewayId ?? null);
      expect(r.ok && 'gatewayId' in r.event).toBe(expected.gatewayId !== undefined);
    } else {
      expect(r.ok ? null : r.rejection.field).toBe(expected.field);
    }
  });
});
