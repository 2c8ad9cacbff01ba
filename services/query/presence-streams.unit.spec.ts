import { DEFAULT_CONFIG, type PresenceConfig, type UserView } from '../core';
import { PresenceStreams } from './presence-streams';
import type { PresenceBody } from './read-model';

const T = 1_800_000_000_000;
const cfg: PresenceConfig = { ...DEFAULT_CONFIG, offlineAfterMs: 3_000, awayAfterMs: 2_000, heartbeatIntervalMs: 1_000, refreshLeadMs: 1_000 };
const view = (userId: string, over: Partial<UserView> = {}): UserView => ({
  userId, status: 'Online', statusSince: T, lastSeen: T, lastActive: T, override: null, visibility: 'everyone', lastSeenPrivacy: 'exact',
  devices: [{ deviceId: 'd', sessionId: 's', platform: 'web', gatewayId: null, active: true }], version: 1, emittedAt: T, ...over,
});

describe('PresenceStreams', () => {
  beforeEach(() => jest.useFakeTimers({ now: T }));
  afterEach(() => jest.useRealTimers());

  const setup = () => {
    const users = new Map<string, UserView>();
    const streams = new PresenceStreams({ users, cfg, clock: () => Date.now() });
    const got: string[] = [];
    const sink = (label: string) => ({ send: (b: PresenceBody) => void got.push(`${label}:${b.userId}:${b.status}@${Date.now() - T}`) });
    return { users, streams, got, sink };
  };

  it('sends the current state, then Away and Offline at the exact instants the clock makes them', () => {
    const { users, streams, got, sink } = setup();
    users.set('alice', view('alice'));
    streams.subscribe('bob', ['alice', 'alice'], sink('bob'));
    expect(got).toEqual(['bob:alice:Online@0']);
    jest.advanceTimersByTime(1_999);
    expect(got).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(got).toEqual(['bob:alice:Online@0', 'bob:alice:Away@2000']);
    jest.advanceTimersByTime(1_000);
    expect(got).toEqual(['bob:alice:Online@0', 'bob:alice:Away@2000', 'bob:alice:Offline@3000']);
    jest.advanceTimersByTime(60_000);
    expect(got).toHaveLength(3);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('a new snapshot re-arms the timers: fresh heartbeats keep the user Online', () => {
    const { users, streams, got, sink } = setup();
    users.set('alice', view('alice'));
    streams.subscribe('bob', ['alice'], sink('bob'));
    jest.advanceTimersByTime(1_500);
    users.set('alice', view('alice', { lastSeen: T + 1_500, lastActive: T + 1_500, version: 2 }));
    streams.updated('alice');
    expect(got).toEqual(['bob:alice:Online@0', 'bob:alice:Online@1500']); // lastSeen is visible: sent
    jest.advanceTimersByTime(1_000); // T+2500: the old lease would be Away by now
    expect(got).toHaveLength(2);
    jest.advanceTimersByTime(1_000);
    expect(got.slice(2)).toEqual(['bob:alice:Away@3500']);
  });

  it('an override expiring is a change; invisible users read Offline to others and fully to themselves', () => {
    const { users, streams, got, sink } = setup();
    users.set('carol', view('carol', { status: 'DoNotDisturb', override: { status: 'DoNotDisturb', customText: null, expiresAt: T + 500 }, lastSeen: T + 10_000, lastActive: T + 10_000 }));
    users.set('ghost', view('ghost', { visibility: 'nobody' }));
    streams.subscribe('bob', ['carol', 'ghost'], sink('bob'));
    streams.subscribe('ghost', ['ghost'], sink('ghost'));
    expect(got).toEqual(['bob:carol:DoNotDisturb@0', 'bob:ghost:Offline@0', 'ghost:ghost:Online@0']);
    jest.advanceTimersByTime(500);
    expect(got.slice(3)).toEqual(['bob:carol:Online@500']);
    jest.advanceTimersByTime(1_500);
    expect(got.slice(4)).toEqual(['ghost:ghost:Away@2000']); // bob still sees Offline: nothing sent
  });

  it('unsubscribing stops events, drops watchers and timers; updates for unwatched users are ignored', () => {
    const { users, streams, got, sink } = setup();
    users.set('alice', view('alice'));
    const stop = streams.subscribe('bob', ['alice'], sink('bob'));
    expect(streams.size).toBe(1);
    stop();
    stop();
    expect(streams.size).toBe(0);
    streams.updated('alice');
    jest.advanceTimersByTime(10_000);
    expect(got).toEqual(['bob:alice:Online@0']);
    streams.close();
  });
});

describe('PresenceStreams with processor watermarks', () => {
  beforeEach(() => jest.useFakeTimers({ now: T }));
  afterEach(() => jest.useRealTimers());
  const grace = 1_000;
  const wcfg: PresenceConfig = { ...cfg, watermarkGraceMs: grace, awayAfterMs: 100_000 };

  const setup = () => {
    const users = new Map<string, UserView>();
    const marks = new Map<number, number>();
    // Two partitions: users whose id starts with "a" are in 0, the others in 1.
    const source = { partitionOf: (u: string) => (u.startsWith('a') ? 0 : 1), watermark: (p: number) => marks.get(p) ?? null };
    const streams = new PresenceStreams({ users, cfg: wcfg, clock: () => Date.now(), watermarks: source });
    const got: string[] = [];
    const sink = { send: (b: PresenceBody) => void got.push(`${b.userId}:${b.status}@${Date.now() - T}`) };
    const mark = (p: number, w: number | null) => {
      if (w === null) marks.delete(p);
      else marks.set(p, w);
      streams.watermarkChanged(p, w);
    };
    return { users, streams, got, sink, mark };
  };

  it('a current watermark holds Online past the lease without rescheduling anyone; a stall turns Offline once', () => {
    const { users, streams, got, sink, mark } = setup();
    users.set('alice', view('alice'));
    users.set('bob', view('bob'));
    mark(0, T);
    streams.subscribe('viewer', ['alice', 'bob'], sink);
    expect(got).toEqual(['alice:Online@0', 'bob:Online@0']);
    // Watermarks every 500 ms for partition 0 only, for 10 s: alice stays Online, bob (no W) decays at 3 s.
    for (let t = 500; t <= 10_000; t += 500) {
      jest.advanceTimersByTime(500);
      mark(0, Date.now());
    }
    expect(got).toEqual(['alice:Online@0', 'bob:Online@0', 'bob:Offline@3000']);
    // A user's own deadline is not moved by watermarks: one timer (alice's away lease or the stall).
    expect(jest.getTimerCount()).toBe(1);
    // The processor stops: Offline at the last W + grace, exactly.
    jest.advanceTimersByTime(grace - 1);
    expect(got).toHaveLength(3);
    jest.advanceTimersByTime(1);
    expect(got.slice(3)).toEqual(['alice:Offline@11000']);
    // It comes back: the partition is re-evaluated once and alice reads Online again.
    jest.advanceTimersByTime(4_000);
    mark(0, Date.now());
    expect(got.slice(4)).toEqual(['alice:Online@15000']);
    streams.close();
  });

  it('the first watermark of a partition, and a forgotten one, re-evaluate its watched users', () => {
    const { users, streams, got, sink, mark } = setup();
    users.set('alice', view('alice'));
    streams.subscribe('viewer', ['alice'], sink);
    jest.advanceTimersByTime(5_000);
    expect(got).toEqual(['alice:Online@0', 'alice:Offline@3000']);
    mark(0, Date.now()); // the processor vouches for the partition: the listed device is live
    expect(got.slice(2)).toEqual(['alice:Online@5000']);
    mark(0, null);
    expect(got.slice(3)).toEqual(['alice:Offline@5000']);
    mark(1, Date.now()); // another partition: alice is not touched
    expect(got).toHaveLength(4);
    streams.close();
  });

  it('users watched before partitions were known are placed at the first watermark; unsubscribing unplaces them', () => {
    const users = new Map<string, UserView>([['alice', view('alice')]]);
    let known = false;
    const streams = new PresenceStreams({
      users, cfg: wcfg, clock: () => Date.now(),
      watermarks: { partitionOf: () => (known ? 0 : null), watermark: () => (known ? Date.now() : null) },
    });
    const got: string[] = [];
    const stop = streams.subscribe('viewer', ['alice'], { send: (b) => void got.push(`${b.status}@${Date.now() - T}`) });
    jest.advanceTimersByTime(4_000);
    known = true;
    streams.watermarkChanged(0, Date.now());
    expect(got).toEqual(['Online@0', 'Offline@3000', 'Online@4000']);
    stop();
    streams.watermarkChanged(0, Date.now() + 1);
    expect(got).toHaveLength(3);
    streams.close();
  });
  it('contacts-only: one stream per viewer, each user filtered for that viewer in the same pass; a contact change re-evaluates at once', () => {
    const users = new Map<string, UserView>([['alice', view('alice', { visibility: 'contacts' })], ['dan', view('dan')]]);
    const lists = new Map<string, Set<string>>([['alice', new Set(['bob'])]]);
    const streams = new PresenceStreams({ users, cfg, clock: () => Date.now(), isContact: (o, v) => lists.get(o)?.has(v) ?? false });
    const got: string[] = [];
    const sink = (label: string) => ({ send: (b: PresenceBody) => void got.push(`${label}:${b.userId}:${b.status}:${b.devices.length}`) });
    streams.subscribe('bob', ['alice', 'dan'], sink('bob'));
    streams.subscribe('carol', ['alice', 'dan'], sink('carol'));
    streams.subscribe('alice', ['alice'], sink('alice'));
    expect(got).toEqual(['bob:alice:Online:1', 'bob:dan:Online:1', 'carol:alice:Offline:0', 'carol:dan:Online:1', 'alice:alice:Online:1']);
    got.length = 0;
    lists.get('alice')?.add('carol');
    streams.contactsChanged('alice');
    expect(got).toEqual(['carol:alice:Online:1']); // only the body that changed is sent
    got.length = 0;
    lists.get('alice')?.delete('bob');
    streams.contactsChanged('alice');
    expect(got).toEqual(['bob:alice:Offline:0']);
    streams.close();
  });
});
