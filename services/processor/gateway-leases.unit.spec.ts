import { DEFAULT_CONFIG, isOpen, type UserEvent } from '../core';
import { CHECKPOINT_KEY, encodeEntry } from './entry-codec';
import { GatewayIndex, GatewayLeaseMap, GatewayLeases } from './gateway-leases';
import { PresenceTask, userStoreKey } from './task';

const t0 = 1_700_000_000_000;
const cfg = DEFAULT_CONFIG;
const log = { info: () => undefined, warn: () => undefined, error: () => undefined } as never;
const beat = (userId: string, observedAt: number, gatewayId: string | null, sessionId = 'tab'): UserEvent =>
  ({ type: 'heartbeat', userId, deviceId: `${userId}-laptop`, sessionId, platform: 'web', observedAt, idleMs: 0, ...(gatewayId === null ? {} : { gatewayId }) });
const lease = (startedAt: number, renewedAt: number, leaseMs = 10_000) => ({ startedAt, renewedAt, leaseMs });

describe('GatewayLeaseMap', () => {
  it.each<[string, Array<[ReturnType<typeof lease> | null, number]>, number, boolean, number | null]>([
    ['never seen: never expired', [], t0 + 1e9, false, null],
    ['renewed recently: alive', [[lease(t0, t0 + 5_000), t0 + 5_000]], t0 + 14_000, false, null],
    ['exactly at the expiry: alive', [[lease(t0, t0 + 5_000), t0 + 5_000]], t0 + 15_000, false, null],
    ['past renewedAt + leaseMs: expired at it', [[lease(t0, t0 + 5_000), t0 + 5_000]], t0 + 15_001, true, t0 + 15_000],
    ['a renewal read late is trusted for leaseMs on our clock (gateway clock behind)', [[lease(t0, t0 + 5_000), t0 + 9_000]], t0 + 16_000, false, null],
    ['clean stop (leaseMs 0): expired at once', [[lease(t0, t0 + 5_000), t0 + 5_000], [lease(t0, t0 + 6_000, 0), t0 + 6_000]], t0 + 6_001, true, t0 + 6_000],
    ['an older renewal read after a newer one changes nothing', [[lease(t0, t0 + 9_000), t0 + 9_000], [lease(t0, t0 + 5_000), t0 + 9_100]], t0 + 18_000, false, null],
    ['a restart (new startedAt) ends the previous run at its start', [[lease(t0, t0 + 5_000), t0 + 5_000], [lease(t0 + 7_000, t0 + 7_000), t0 + 7_000]], t0 + 8_000, false, t0 + 6_999],
    ['a restart after the old lease ran out: the old expiry', [[lease(t0, t0 + 5_000), t0 + 5_000], [lease(t0 + 60_000, t0 + 60_000), t0 + 60_000]], t0 + 61_000, false, t0 + 15_000],
    ['the restarted run expiring too: its expiry', [[lease(t0, t0 + 5_000), t0 + 5_000], [lease(t0 + 7_000, t0 + 7_000), t0 + 7_000]], t0 + 18_000, true, t0 + 17_000],
    ['a record of an earlier run after a restart changes nothing', [[lease(t0 + 7_000, t0 + 7_000), t0 + 7_000], [lease(t0, t0 + 8_000), t0 + 8_000]], t0 + 16_000, false, null],
    ['a tombstone forgets the gateway', [[lease(t0, t0 + 5_000), t0 + 5_000], [null, t0 + 5_001]], t0 + 1e9, false, null],
  ])('%s', (_name, records, now, expired, deadUpTo) => {
    const map = new GatewayLeaseMap();
    for (const [l, readAt] of records) map.apply('gw', l, readAt);
    expect([map.expired('gw', now), map.deadUpTo('gw', now)]).toEqual([expired, deadUpTo]);
    expect([...map.dead(now)]).toEqual(deadUpTo === null ? [] : [['gw', deadUpTo]]);
  });
});

describe('GatewayIndex', () => {
  it('maps each gateway to the users with an open session last heard through it', () => {
    const task = new PresenceTask(0, cfg);
    task.applyUser(beat('ann', t0, 'gw-a'), t0);
    task.applyUser(beat('bob', t0, 'gw-a'), t0);
    task.applyUser(beat('bob', t0, 'gw-b', 'phone'), t0);
    task.applyUser(beat('cid', t0, null), t0);
    expect(task.gateways.usersOf('gw-a').sort()).toEqual(['ann', 'bob']);
    expect(task.gateways.usersOf('gw-b')).toEqual(['bob']);
    expect(task.gateways.gateways).toBe(2);
    // ann moves to gw-b; bob's gw-a session ends cleanly.
    task.applyUser(beat('ann', t0 + 1, 'gw-b'), t0 + 1);
    task.applyUser({ type: 'disconnect', userId: 'bob', deviceId: 'bob-laptop', sessionId: 'tab', platform: 'web', observedAt: t0 + 2 }, t0 + 2);
    expect(task.gateways.usersOf('gw-a')).toEqual([]);
    expect(task.gateways.usersOf('gw-b').sort()).toEqual(['ann', 'bob']);
  });

  it('is rebuilt from restored entries', () => {
    const src = new PresenceTask(0, cfg);
    src.applyUser(beat('ann', t0, 'gw-a'), t0);
    const entry = { kind: 'user' as const, state: src.user('ann')!.state, emitted: null };
    const task = new PresenceTask(0, cfg);
    task.load([[userStoreKey('ann'), encodeEntry(entry)], [CHECKPOINT_KEY, Buffer.from(JSON.stringify({ f: 1, at: t0, snapshotEnd: null, roomSnapshotEnd: null }))]]);
    expect(task.gateways.usersOf('gw-a')).toEqual(['ann']);
  });

  it('remembers keys newly added to a gateway known dead until taken, and none of live gateways', () => {
    const task = new PresenceTask(0, cfg);
    task.applyUser(beat('ann', t0, 'gw-a'), t0);
    task.applyUser(beat('bob', t0, 'gw-b'), t0);
    const ann = task.user('ann')!.state;
    const bob = task.user('bob')!.state;
    const index = new GatewayIndex(() => [['u/ann', ann], ['u/bob', bob]]);
    index.track('u/ann', null, ann); // no gateway known dead yet: nothing remembered
    expect(index.hasFresh('gw-a')).toBe(false);
    index.keepFreshOf(new Map([['gw-a', t0]])); // gw-a's lease ran out, gw-b is live
    index.track('u/ann', null, ann);
    index.track('u/ann', ann, ann); // already on gw-a before: not new
    index.track('u/bob', null, bob);
    expect(index.hasFresh('gw-a')).toBe(true);
    const fresh = index.takeFresh();
    expect([...(fresh.get('gw-a') ?? [])]).toEqual(['u/ann']);
    expect(fresh.has('gw-b')).toBe(false);
    expect(index.usersOf('gw-b')).toEqual(['u/bob']); // found by the scan all the same
    expect(index.takeFresh().size).toBe(0);
  });

  it('a user already on the dead gateway is not fresh; one who moves to it is', () => {
    const task = new PresenceTask(0, cfg);
    task.gateways.keepFreshOf(new Map([['gw-a', t0]]));
    task.applyUser(beat('ann', t0, 'gw-b'), t0);
    expect(task.gateways.hasFresh('gw-a')).toBe(false);
    task.applyUser(beat('ann', t0 + 1, 'gw-a', 'phone'), t0 + 1); // a new session through the dead gateway
    expect([...(task.gateways.takeFresh().get('gw-a') ?? [])]).toEqual(['ann']);
    task.applyUser(beat('ann', t0 + 2, 'gw-a', 'phone'), t0 + 2); // the same session again: soft, not new
    expect(task.gateways.hasFresh('gw-a')).toBe(false);
  });
});

describe('GatewayLeases hooks (the timer loop)', () => {
  const setup = () => {
    const leases = new GatewayLeases({ log });
    const task = new PresenceTask(0, cfg);
    for (const u of ['ann', 'bob', 'cid']) task.applyUser(beat(u, t0, 'gw-a'), t0);
    task.applyUser(beat('bob', t0 + 9_000, 'gw-b', 'phone'), t0 + 9_000);
    task.applyUser(beat('dee', t0, 'gw-b'), t0);
    task.flush(t0 + 9_000).commit();
    task.checkpoint({ at: t0, snapshotEnd: null, roomSnapshotEnd: null }).commit();
    leases.map.apply('gw-a', lease(t0, t0 + 1_000), t0 + 1_000);
    leases.map.apply('gw-b', lease(t0, t0 + 9_000), t0 + 9_000);
    return { leases, task };
  };

  it('an expired lease ends its users\' sessions in the task, which flushes Offline snapshots and saves them', () => {
    const { leases, task } = setup();
    const now = t0 + 11_001;
    expect(leases.due(task, t0 + 10_000)).toBe(false);
    expect(leases.due(task, now)).toBe(true);
    expect(leases.apply(task, now)).toBe(3);
    expect(leases.due(task, now)).toBe(false);
    const flush = task.flush(now);
    const status = Object.fromEntries(flush.snapshots.map((s) => [s.key, s.value.status]));
    expect(status).toEqual({ ann: 'Offline', cid: 'Offline', bob: 'Online' });
    expect(flush.changes.map((c) => [c.key, c.value.to]).sort()).toEqual([['ann', 'Offline'], ['cid', 'Offline']]);
    flush.commit();
    const saved = task.checkpoint({ at: now, snapshotEnd: null, roomSnapshotEnd: null }).changelog.map((c) => c.key).filter((k) => k !== CHECKPOINT_KEY);
    expect(saved.sort()).toEqual([userStoreKey('ann'), userStoreKey('bob'), userStoreKey('cid')]);
    expect(task.user('dee')?.state.sessions.every(isOpen)).toBe(true);
    // Replay-safe: nothing more to do, and applying again changes nothing.
    expect(leases.apply(task, now + 1)).toBe(0);
  });

  it('a late heartbeat of the dead gateway opening a session is ended at the next tick', () => {
    const { leases, task } = setup();
    leases.apply(task, t0 + 12_000);
    task.applyUser(beat('eve', t0 + 500, 'gw-a'), t0 + 12_050);
    expect(leases.due(task, t0 + 12_100)).toBe(true);
    expect(leases.apply(task, t0 + 12_100)).toBe(1);
    expect(task.user('eve')?.state.sessions.some(isOpen)).toBe(false);
    // A session heard after the expiry (the user reconnected) stays open.
    task.applyUser(beat('ann', t0 + 12_200, 'gw-c'), t0 + 12_200);
    expect(leases.due(task, t0 + 12_300)).toBe(false);
  });

  it('a task assigned later applies every expiry once', () => {
    const { leases, task } = setup();
    leases.apply(task, t0 + 12_000);
    const late = new PresenceTask(1, cfg);
    late.applyUser(beat('fay', t0, 'gw-a'), t0);
    expect(leases.due(late, t0 + 12_000)).toBe(true);
    expect(leases.apply(late, t0 + 12_000)).toBe(1);
  });

  it('gateways never seen are never expired', () => {
    const leases = new GatewayLeases({ log });
    const task = new PresenceTask(0, cfg);
    task.applyUser(beat('gus', t0, 'gw-unknown'), t0);
    expect(leases.due(task, t0 + 1e9)).toBe(false);
    expect(leases.apply(task, t0 + 1e9)).toBe(0);
  });
});
