import { DEFAULT_CONFIG, initialUserState, type UserEvent, type UserState } from '../core';
import { CHECKPOINT_KEY, encodeEntry } from './entry-codec';
import { durablyChanged, PresenceTask, userStoreKey } from './task';

const t0 = 1_700_000_000_000;
const cfg = DEFAULT_CONFIG;
const beat = (observedAt: number, sessionId = 'tab-1', idleMs = 0): UserEvent => ({ type: 'heartbeat', userId: 'alice', deviceId: 'laptop', sessionId, platform: 'web', observedAt, idleMs });
const marker = { at: t0, snapshotEnd: null, roomSnapshotEnd: null };
const savedKeys = (task: PresenceTask) => {
  const cp = task.checkpoint(marker);
  cp.commit();
  return cp.changelog.map((c) => c.key).filter((k) => k !== CHECKPOINT_KEY);
};

describe('PresenceTask write cadences', () => {
  it('a heartbeat that only moves lastSeen is soft: emitted nothing, saved nothing', () => {
    const task = new PresenceTask(0, cfg);
    task.applyUser(beat(t0), t0);
    const first = task.flush(t0);
    expect(first.snapshots).toHaveLength(1);
    first.commit();
    expect(savedKeys(task)).toEqual([userStoreKey('alice')]);
    task.applyUser(beat(t0 + 15_000), t0 + 15_000);
    const second = task.flush(t0 + 15_000);
    expect(second.snapshots).toHaveLength(0);
    second.commit();
    expect(savedKeys(task)).toEqual([]);
    expect(task.user('alice')?.state.lastSeen).toBe(t0 + 15_000);
  });

  it('a flush in parts sends each key once, in the order of one whole flush, and leaves none pending', () => {
    const users = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'];
    const fill = (task: PresenceTask) => {
      for (const [i, userId] of users.entries()) task.applyUser({ ...beat(t0 + i), userId }, t0 + 10);
    };
    const whole = new PresenceTask(0, cfg);
    fill(whole);
    const all = whole.flush(t0 + 10);
    all.commit();
    const parted = new PresenceTask(0, cfg);
    fill(parted);
    const parts = [];
    while (parted.pending > 0) {
      const part = parted.flush(t0 + 10, 3);
      expect(part.snapshots.length).toBeLessThanOrEqual(3);
      part.commit();
      parts.push(part);
    }
    expect(parts.map((p) => p.snapshots.length)).toEqual([3, 3, 1]);
    expect(parts.flatMap((p) => p.snapshots)).toEqual(all.snapshots);
    expect(parts.flatMap((p) => p.changes)).toEqual(all.changes);
    for (const userId of users) expect(parted.user(userId)?.emitted).toEqual(whole.user(userId)?.emitted);
  });

  it("a key touched after its flush was taken keeps its newer state and stays dirty through that flush's commit", () => {
    const task = new PresenceTask(0, cfg);
    task.applyUser(beat(t0), t0);
    task.applyUser({ ...beat(t0), userId: 'bob' }, t0);
    const first = task.flush(t0 + 10); // its send fails; events come in before the retry
    task.applyUser(beat(t0 + 20, 'tab-2'), t0 + 20);
    first.commit(); // the retry was acknowledged
    expect(task.user('alice')?.state.sessions.map((x) => x.sessionId)).toEqual(['tab-1', 'tab-2']);
    expect(task.user('alice')?.emitted?.devices).toHaveLength(1); // what readers were told
    expect(task.user('bob')?.emitted?.devices).toHaveLength(1);
    expect(task.pending).toBe(1);
    const next = task.flush(t0 + 30);
    expect(next.snapshots.map((x) => [x.key, x.value.devices.length])).toEqual([['alice', 2]]);
    expect(next.snapshots[0]?.value.version).toBeGreaterThan(first.snapshots[0]?.value.version ?? Infinity);
    next.commit();
    expect(task.pending).toBe(0);
  });

  it('a part committed after a later flush was committed drops none of the keys still waiting', () => {
    const task = new PresenceTask(0, cfg);
    for (const [i, userId] of ['u1', 'u2', 'u3', 'u4'].entries()) task.applyUser({ ...beat(t0 + i), userId }, t0 + 10);
    const stale = task.flush(t0 + 10, 2);
    task.flush(t0 + 10, 2).commit(); // the same two keys, decided again and committed first
    stale.commit();
    expect(task.pending).toBe(2);
    expect(task.flush(t0 + 10).snapshots.map((x) => x.key)).toEqual(['u3', 'u4']);
  });

  it('a part not committed is decided again by the next flush; the keys after it still wait', () => {
    const task = new PresenceTask(0, cfg);
    for (const [i, userId] of ['u1', 'u2', 'u3'].entries()) task.applyUser({ ...beat(t0 + i), userId }, t0 + 10);
    expect(task.flush(t0 + 10, 2).snapshots.map((s) => s.key)).toEqual(['u1', 'u2']); // failed: not committed
    const retry = task.flush(t0 + 10, 2);
    expect(retry.snapshots.map((s) => s.key)).toEqual(['u1', 'u2']);
    retry.commit();
    expect(task.pending).toBe(1);
    expect(task.flush(t0 + 10).snapshots.map((s) => s.key)).toEqual(['u3']);
  });

  it('a key touched many times between checkpoints is saved once', () => {
    const task = new PresenceTask(0, cfg);
    for (let i = 0; i < 5; i++) {
      task.applyUser(beat(t0 + i, `tab-${i}`), t0 + i);
      task.flush(t0 + i).commit();
    }
    expect(savedKeys(task)).toEqual([userStoreKey('alice')]);
  });

  it('a checkpoint that is never committed is taken again whole', () => {
    const task = new PresenceTask(0, cfg);
    task.applyUser(beat(t0), t0);
    task.flush(t0).commit();
    task.checkpoint(marker); // failed: not committed
    expect(savedKeys(task)).toEqual([userStoreKey('alice')]);
  });

  it('a key changed again while a checkpoint is in flight is saved by the next one', () => {
    const task = new PresenceTask(0, cfg);
    task.applyUser(beat(t0), t0);
    task.flush(t0).commit();
    const inFlight = task.checkpoint(marker);
    task.applyUser(beat(t0 + 1, 'tab-2'), t0 + 1); // a new session: durable
    task.flush(t0 + 1).commit();
    inFlight.commit();
    const next = task.checkpoint(marker);
    next.commit();
    const saved = next.changelog.find((c) => c.key === userStoreKey('alice'));
    expect(saved?.value).toEqual(encodeEntry({ kind: 'user', ...task.user('alice')! }));
    expect(savedKeys(task)).toEqual([]);
  });

  it('an emptied room is saved as a tombstone, and a room made again under its key as its new state', () => {
    const task = new PresenceTask(0, cfg);
    const room = (type: 'join' | 'leave', observedAt: number) => ({ type, roomKind: 'doc', roomId: '7', userId: 'alice', sessionId: 'tab-1', observedAt, metadata: null });
    const saved = () => {
      const cp = task.checkpoint(marker);
      cp.commit();
      return cp.changelog.filter((c) => c.key === 'r/doc/7').map((c) => c.value);
    };
    task.applyRoom(room('join', t0), t0);
    task.flush(t0).commit();
    expect(saved()).toHaveLength(1);
    task.applyRoom(room('leave', t0 + 1), t0 + 1);
    task.flush(t0 + 1).commit();
    const pruned = t0 + 1 + cfg.sessionRetentionMs; // the departed member is dropped, and the room with it
    expect(task.fireDue(pruned)).toBe(1);
    task.flush(pruned).commit();
    expect(task.room('doc/7')).toBeUndefined();
    expect(saved()).toEqual([null]);
    task.applyRoom(room('join', pruned + 1), pruned + 1); // made again under the same key
    task.flush(pruned + 1).commit();
    const last = saved().at(-1);
    expect(last).toEqual(encodeEntry({ kind: 'room', ...task.room('doc/7')! }));
  });
});

describe('PresenceTask snapshot versions', () => {
  it('rise on every reader-visible change, including an Available override expiring without a status change', () => {
    const task = new PresenceTask(0, cfg);
    task.applyUser(beat(t0), t0);
    task.applyUser({ type: 'override', userId: 'alice', status: 'Available', customText: 'lunch soon', expiresAt: t0 + 1_000, setAt: t0, eventId: 'o1' }, t0);
    const set = task.flush(t0);
    set.commit();
    const before = set.snapshots[0]?.value;
    expect(before?.override?.customText).toBe('lunch soon');
    task.fireDue(t0 + 1_000);
    const expired = task.flush(t0 + 1_000);
    const after = expired.snapshots[0]?.value;
    expect(after?.override).toBeNull();
    expect(after?.status).toBe(before?.status);
    expect(after?.version).toBeGreaterThan(before?.version as number);
  });

  it('continue above a view restored from the snapshot topic, even when the restored state is older', () => {
    const task = new PresenceTask(0, cfg);
    const old: UserState = { ...initialUserState('alice'), version: 3 };
    task.load([[userStoreKey('alice'), encodeEntry({ kind: 'user', state: old, emitted: null })]]);
    task.restoreEmittedUser({
      userId: 'alice', status: 'Online', statusSince: t0, lastSeen: t0, lastActive: t0, override: null, visibility: 'everyone', lastSeenPrivacy: 'exact',
      devices: [{ deviceId: 'laptop', sessionId: 'tab-1', platform: 'web', gatewayId: null, active: true }], version: 40, emittedAt: t0,
    });
    task.start(t0);
    // The replayed input reproduces the emitted view: nothing to repeat.
    task.applyUser(beat(t0), t0);
    const replay = task.flush(t0);
    expect(replay.snapshots).toHaveLength(0);
    replay.commit();
    task.applyUser(beat(t0 + 1, 'tab-2'), t0 + 1);
    const next = task.flush(t0 + 1).snapshots[0]?.value;
    expect(next?.version).toBeGreaterThan(40);
  });
});

describe('PresenceTask change causes', () => {
  const awayAt = t0 + cfg.awayAfterMs;
  const idleUntilAway = () => {
    const task = new PresenceTask(0, cfg);
    task.applyUser(beat(t0), t0);
    task.flush(t0).commit();
    // Still beating, idle since t0: Away falls due at awayAt.
    task.applyUser(beat(awayAt - 1_000, 'tab-1', cfg.awayAfterMs - 1_000), awayAt - 1_000);
    task.flush(awayAt - 1_000).commit();
    return task;
  };

  it("a timer's flush that lands on the very millisecond of the threshold reports the clock", () => {
    const task = idleUntilAway();
    task.fireDue(awayAt);
    const changes = task.flush(awayAt).changes.map((c) => c.value);
    expect(changes.map((c) => [c.from, c.to, c.at, c.cause])).toEqual([['Online', 'Away', awayAt, 'clock']]);
  });

  it('a heartbeat applied on the very millisecond an override expires finds the clock\'s change', () => {
    const task = new PresenceTask(0, cfg);
    task.applyUser(beat(t0), t0);
    task.applyUser({ type: 'override', userId: 'alice', status: 'DoNotDisturb', customText: null, expiresAt: t0 + 1_000, setAt: t0, eventId: 'dnd' }, t0);
    task.flush(t0).commit();
    task.applyUser(beat(t0 + 1_000), t0 + 1_000);
    const changes = task.flush(t0 + 1_000).changes.map((c) => c.value);
    expect(changes.map((c) => [c.from, c.to, c.at, c.cause])).toEqual([['DoNotDisturb', 'Online', t0 + 1_000, 'clock']]);
  });

  it("an event's change flushed later (a catch-up, a failed send) is still the event's; a clock's change after it is the clock's", () => {
    const task = new PresenceTask(0, cfg);
    task.applyUser(beat(t0), t0);
    task.applyUser({ type: 'override', userId: 'alice', status: 'Busy', customText: null, expiresAt: t0 + 5_000, setAt: t0 + 100, eventId: 'busy' }, t0 + 100);
    const late = task.flush(t0 + 2_000).changes.map((c) => c.value);
    expect(late.map((c) => [c.from, c.to, c.at, c.cause])).toEqual([['Offline', 'Busy', t0 + 100, 'event']]);
    task.flush(t0 + 3_000).commit(); // the first send failed: decided again, same cause
    task.applyUser(beat(t0 + 4_000), t0 + 4_000);
    task.flush(t0 + 4_000).commit();
    task.fireDue(t0 + 5_000);
    const expiry = task.flush(t0 + 5_000).changes.map((c) => c.value);
    expect(expiry.map((c) => [c.from, c.to, c.at, c.cause])).toEqual([['Busy', 'Online', t0 + 5_000, 'clock']]);
  });

  it('a heartbeat that finds an expired override, then moves the status itself, reports the event', () => {
    const task = new PresenceTask(0, cfg);
    task.applyUser(beat(t0, 'tab-1', cfg.awayAfterMs + 1_000), t0); // idle: Away under the override
    task.applyUser({ type: 'override', userId: 'alice', status: 'DoNotDisturb', customText: null, expiresAt: t0 + 1_000, setAt: t0, eventId: 'dnd' }, t0);
    task.flush(t0).commit();
    task.applyUser(beat(t0 + 1_500, 'tab-1', 0), t0 + 1_500); // back at the keyboard after the expiry: Away (clock), then Online (event)
    const changes = task.flush(t0 + 1_500).changes.map((c) => c.value);
    expect(changes.map((c) => [c.from, c.to, c.at, c.cause])).toEqual([['DoNotDisturb', 'Online', t0 + 1_500, 'event']]);
  });

  it('a change dated at the flush after input is the event\'s', () => {
    const task = idleUntilAway();
    task.applyUser({ type: 'override', userId: 'alice', status: 'DoNotDisturb', customText: null, expiresAt: null, setAt: awayAt - 500, eventId: 'o1' }, awayAt - 500);
    const changes = task.flush(awayAt - 500).changes.map((c) => c.value);
    expect(changes.map((c) => [c.from, c.to, c.at, c.cause])).toEqual([['Online', 'DoNotDisturb', awayAt - 500, 'event']]);
  });
});

describe('PresenceTask restore in watermark lease mode', () => {
  it('takes the listed sessions as seen at the checkpoint, and only the devices shown active as active then', () => {
    const wm = { ...cfg, snapshotLeases: 'watermark' as const };
    const at = t0 + 20_000;
    // Stored soft state lags: both sessions last saved at t0; the tablet idle for 400 s.
    const build = new PresenceTask(0, wm);
    build.applyUser(beat(t0, 'tab-1'), t0);
    build.applyUser(beat(t0, 'tab-2', 400_000), t0);
    const flushed = build.flush(t0);
    flushed.commit();
    expect(flushed.snapshots[0]?.value.devices.map((d) => d.active)).toEqual([true, false]);
    const stored = build.user('alice');
    const task = new PresenceTask(0, wm);
    task.load([[userStoreKey('alice'), encodeEntry({ kind: 'user', state: stored?.state as UserState, emitted: stored?.emitted ?? null })], [CHECKPOINT_KEY, JSON.stringify({ f: 1, ...marker, at })]]);
    const restored = task.user('alice')?.state;
    expect(restored?.sessions.map((x) => [x.sessionId, x.lastSeen, x.lastActivity])).toEqual([['tab-1', at, at], ['tab-2', at, t0 - 400_000]]);
    // So the restored view says what readers were told: nothing to emit.
    task.start(at);
    expect(task.flush(at).snapshots).toHaveLength(0);
  });
});

describe('durablyChanged', () => {
  const base: UserState = { ...initialUserState('alice'), sessions: [{ deviceId: 'd', sessionId: 's', platform: 'web', lastSeen: t0, lastActivity: t0, endedAt: null }], lastSeen: t0, lastActivity: t0 };
  const session = base.sessions[0] as UserState['sessions'][number];
  it.each<[string, UserState, boolean]>([
    ['same state', base, false],
    ['lastSeen and lastActivity forward', { ...base, lastSeen: t0 + 1, lastActivity: t0 + 1, version: 2, sessions: [{ ...session, lastSeen: t0 + 1, lastActivity: t0 + 1 }] }, false],
    ['a new session', { ...base, sessions: [...base.sessions, { ...session, sessionId: 't' }] }, true],
    ['a clean disconnect', { ...base, sessions: [{ ...session, endedAt: t0 + 1 }] }, true],
    ['another platform', { ...base, sessions: [{ ...session, platform: 'ios' }] }, true],
    ['an override', { ...base, override: { status: 'Busy', customText: null, expiresAt: null, setAt: t0, eventId: 'o' } }, true],
    ['visibility', { ...base, visibility: { visibility: 'nobody', setAt: t0, eventId: 'v' } }, true],
    ['a recorded status', { ...base, status: 'Online', statusSince: t0 }, true],
  ])('%s → %s', (_name, after, expected) => {
    expect(durablyChanged(base, after)).toBe(expected);
  });
});
