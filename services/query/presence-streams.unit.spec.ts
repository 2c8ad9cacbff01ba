import { DEFAULT_CONFIG, type PresenceConfig, type UserView } from '../core';
import { PresenceStreams } from './presence-streams';
import type { PresenceBody } from './read-model';

const T = 1_800_000_000_000;
const cfg: PresenceConfig = { ...DEFAULT_CONFIG, offlineAfterMs: 3_000, awayAfterMs: 2_000, heartbeatIntervalMs: 1_000, refreshLeadMs: 1_000 };
const view = (userId: string, over: Partial<UserView> = {}): UserView => ({
  userId, status: 'Online', statusSince: T, lastSeen: T, lastActive: T, override: null, visibility: 'everyone',
  devices: [{ deviceId: 'd', sessionId: 's', platform: 'web' }], version: 1, emittedAt: T, ...over,
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
