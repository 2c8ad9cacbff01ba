import { DEFAULT_CONFIG as cfg } from './config';
import type { Platform, UserEvent } from './events';
import { deviceRoutes, deviceRoutesOfView, targetGateways, type DeviceRoute } from './device-routes';
import { applyEvent, initialUserState, nextDeadline, snapshotDecision, userView, type UserState } from './user';

const T = 1_700_000_000_000;
const U = 'u1';
const AWAY = cfg.awayAfterMs;
const hb = (deviceId: string, at: number, idleMs: number, gatewayId?: string, platform: Platform = 'web'): UserEvent => ({
  type: 'heartbeat', userId: U, deviceId, sessionId: 's', platform, observedAt: at, idleMs, ...(gatewayId === undefined ? {} : { gatewayId }),
});
const bye = (deviceId: string, at: number): UserEvent => ({ type: 'disconnect', userId: U, deviceId, sessionId: 's', platform: 'web', observedAt: at });
const given = (events: readonly UserEvent[]): UserState => events.reduce((s, e) => applyEvent(s, e, 'observedAt' in e ? e.observedAt : e.setAt, cfg), initialUserState(U));
const route = (deviceId: string, gatewayId: string | null, active: boolean, platform: Platform = 'web'): DeviceRoute => ({ deviceId, sessionId: 's', platform, gatewayId, active });

describe('deviceRoutes: the live sessions with gateway and active flag', () => {
  const table: readonly [string, readonly UserEvent[], number, readonly DeviceRoute[]][] = [
    // what, events, now → routes
    ['never seen', [], T, []],
    ['a laptop through gw-1, active', [hb('laptop', T, 0, 'gw-1')], T + 1, [route('laptop', 'gw-1', true)]],
    ['two devices through two gateways, the phone idle',
      [hb('laptop', T, 0, 'gw-1'), hb('phone', T, AWAY + 1, 'gw-2', 'ios')], T + 1, [route('laptop', 'gw-1', true), route('phone', 'gw-2', false, 'ios')]],
    ['active while its own activity is less than awayAfterMs old', [hb('laptop', T, AWAY - 1, 'gw-1')], T, [route('laptop', 'gw-1', true)]],
    ['idle once it is awayAfterMs old', [hb('laptop', T, AWAY, 'gw-1')], T, [route('laptop', 'gw-1', false)]],
    ['fresh activity makes an idle session active again', [hb('phone', T, AWAY, 'gw-2'), hb('phone', T + 15_000, 0, 'gw-2')], T + 15_000, [route('phone', 'gw-2', true)]],
    ['a session follows the gateway of its latest heartbeat', [hb('laptop', T + 15_000, 0, 'gw-9'), hb('laptop', T, 0, 'gw-1')], T + 15_000, [route('laptop', 'gw-9', true)]],
    ['a heartbeat without gateway: live, unroutable', [hb('laptop', T, 0)], T + 1, [route('laptop', null, true)]],
    ['a cleanly disconnected session is gone', [hb('laptop', T, 0, 'gw-1'), hb('phone', T, 0, 'gw-2'), bye('laptop', T + 1)], T + 2, [route('phone', 'gw-2', true)]],
    ['a silent session expires at the offline threshold', [hb('laptop', T, 0, 'gw-1')], T + cfg.offlineAfterMs, []],
    ['another session\'s activity does not make an idle one active', [hb('laptop', T, 0, 'gw-1'), hb('phone', T, AWAY, 'gw-2')], T + 1, [route('laptop', 'gw-1', true), route('phone', 'gw-2', false)]],
  ];
  it.each(table)('%s', (_what, events, now, routes) => {
    expect(deviceRoutes(given(events), now, cfg)).toEqual(routes);
  });

  it('the active flag turns idle exactly at lastActivity + awayAfterMs, by a timer (nextDeadline)', () => {
    // The laptop heart-beats every 15 s, idle since T (its activity stays at T); the phone is in use.
    const c = { ...cfg, awayAfterMs: 60_000 };
    const idleAt = T + 60_000;
    const s = given([0, 15_000, 30_000, 45_000].map((dt) => hb('laptop', T + dt, dt, 'gw-1')).concat(hb('phone', T + 45_000, 0, 'gw-2')));
    expect(deviceRoutes(s, idleAt - 1, c).map((r) => r.active)).toEqual([true, true]);
    expect(deviceRoutes(s, idleAt, c).map((r) => r.active)).toEqual([false, true]);
    expect(nextDeadline(s, T + 45_000, c)).toBe(idleAt);
    // The snapshot emitted before the crossing is out of date at it, and only then.
    const emitted = userView(s, T + 45_000, c);
    expect(snapshotDecision(emitted, s, idleAt - 1, c).reason).toBe('unchanged');
    expect(snapshotDecision(emitted, s, idleAt, c)).toEqual({ emit: true, reason: 'changed' });
  });

  it('heartbeats that keep a session active or idle change nothing a reader sees (no churn)', () => {
    const s0 = given([hb('laptop', T, 0, 'gw-1'), hb('phone', T, AWAY + 1, 'gw-2')]);
    const emitted = userView(s0, T, cfg);
    const s1 = given([hb('laptop', T, 0, 'gw-1'), hb('phone', T, AWAY + 1, 'gw-2'), hb('laptop', T + 15_000, 100, 'gw-1'), hb('phone', T + 15_000, AWAY + 15_001, 'gw-2')]);
    expect(snapshotDecision(emitted, s1, T + 15_000, cfg)).toEqual({ emit: false, reason: 'unchanged' });
  });
});

describe('deviceRoutesOfView: the same from a snapshot, at read time', () => {
  const s = given([hb('laptop', T, 0, 'gw-1'), hb('phone', T, AWAY + 1, 'gw-2', 'ios')]);
  const view = userView(s, T, cfg);
  const table: readonly [string, Parameters<typeof deviceRoutesOfView>[0], number, number | null, readonly DeviceRoute[]][] = [
    // what, view, now, watermark → routes
    ['as emitted', view, T + 1, null, [route('laptop', 'gw-1', true), route('phone', 'gw-2', false, 'ios')]],
    ['no snapshot', undefined, T, null, []],
    ['its lastSeen lease ran out (processor silent)', view, T + cfg.offlineAfterMs, null, []],
    ['held by a current watermark', view, T + cfg.offlineAfterMs, T + cfg.offlineAfterMs, [route('laptop', 'gw-1', true), route('phone', 'gw-2', false, 'ios')]],
    ['an invisible user still routes (the pipeline acts for the user)', { ...view, visibility: 'nobody' }, T + 1, null, [route('laptop', 'gw-1', true), route('phone', 'gw-2', false, 'ios')]],
    ['a snapshot of an older processor: no gateway, active', { ...view, devices: view.devices.map((d) => ({ ...d, gatewayId: null, active: true })) }, T + 1, null, [route('laptop', null, true), route('phone', null, true, 'ios')]],
  ];
  it.each(table)('%s', (_what, v, now, watermark, routes) => {
    expect(deviceRoutesOfView(v, now, cfg, watermark)).toEqual(routes);
  });
});

describe('targetGateways', () => {
  const table: readonly [string, readonly DeviceRoute[], string[]][] = [
    ['no live session: offline delivery', [], []],
    ['active gateways first, then idle, each by id', [route('a', 'gw-b', false), route('b', 'gw-c', true), route('c', 'gw-a', false), route('d', 'gw-0', true)], ['gw-0', 'gw-c', 'gw-a', 'gw-b']],
    ['a gateway once, active if any of its sessions is', [route('a', 'gw-1', false), route('b', 'gw-1', true)], ['gw-1']],
    ['unknown gateways left out', [route('a', null, true), route('b', 'gw-1', false)], ['gw-1']],
  ];
  it.each(table)('%s', (_what, routes, gateways) => {
    expect(targetGateways(routes)).toEqual(gateways);
  });
});
