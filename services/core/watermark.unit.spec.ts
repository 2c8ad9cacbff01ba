/** The reader rule with a partition watermark, and the processor's lease mode (table tests). */
import { DEFAULT_CONFIG, type PresenceConfig } from './config';
import type { EffectiveStatus, UserEvent } from './events';
import { gateStatus } from './gate';
import {
  applyEvent,
  effectiveStatusOfView,
  initialUserState,
  nextSnapshotCheck,
  readView,
  readViewNextChange,
  snapshotDecision,
  userView,
  type UserView,
  type Watermark,
} from './user';

const T = 1_700_000_000_000;
const U = 'u1';
const cfg: PresenceConfig = DEFAULT_CONFIG; // offline 45 s, away 300 s, watermark grace 5 s
const wm: PresenceConfig = { ...cfg, snapshotLeases: 'watermark' };
const hb = (at: number, idleMs = 0): UserEvent => ({ type: 'heartbeat', userId: U, deviceId: 'd', sessionId: 's', platform: 'web', observedAt: at, idleMs });
const ov = (status: 'Busy' | 'DoNotDisturb' | 'AppearOffline' | 'Available', setAt: number, expiresAt: number | null = null): UserEvent =>
  ({ type: 'override', userId: U, status, customText: null, expiresAt, setAt, eventId: `e${setAt}` });

/** An Online snapshot emitted at T with lastSeen = lastActive = T. */
const online: UserView = userView(applyEvent(initialUserState(U), hb(T), T, cfg), T, cfg);
/** Emitted at T with the user idle for 290 s: Online, turning Away at T + 10 s by its lease. */
const idling: UserView = userView(applyEvent(initialUserState(U), hb(T, 290_000), T, cfg), T, cfg);
/** Emitted at T with the user idle for 400 s: already Away at emission. */
const away: UserView = userView(applyEvent(initialUserState(U), hb(T, 400_000), T, cfg), T, cfg);
/** Busy until T + 60 s, emitted while Away underneath. */
const busyAway: UserView = userView(applyEvent(applyEvent(initialUserState(U), hb(T, 400_000), T, cfg), ov('Busy', T, T + 60_000), T, cfg), T, cfg);
/** No device. */
const gone: UserView = { ...online, status: 'Offline', devices: [] };

describe('effectiveStatusOfView with a partition watermark', () => {
  const cases: ReadonlyArray<[string, UserView, number, Watermark, EffectiveStatus]> = [
    ['no watermark: the lease rule (Online before lastSeen + 45 s)', online, T + 44_999, null, 'Online'],
    ['no watermark: Offline at lastSeen + 45 s', online, T + 45_000, null, 'Offline'],
    ['a current watermark holds Online past the lease', online, T + 600_000, T + 599_000, 'Online'],
    ['… up to W + grace exclusive', online, T + 604_999, T + 600_000, 'Online'],
    ['… then Offline (the watermark stalled)', online, T + 605_000, T + 600_000, 'Offline'],
    ['an old watermark does not shorten the lease', online, T + 44_999, T - 100_000, 'Online'],
    ['… nor lengthen it', online, T + 45_000, T - 100_000, 'Offline'],
    ['the Away lease is held by W too', idling, T + 20_000, T + 19_000, 'Online'],
    ['… and decays at W + grace', idling, T + 24_000, T + 19_000, 'Away'],
    ['without W it turns Away at its lease', idling, T + 10_000, null, 'Away'],
    ['a snapshot Away at emission stays Away whatever W says', away, T + 1_000, T + 1_000, 'Away'],
    ['… and goes Offline when W stalls', away, T + 50_000, T + 1_000, 'Offline'],
    ['… but is held live while W is current', away, T + 50_000, T + 49_000, 'Away'],
    ['no device: Offline whatever W says', gone, T + 1, T + 1, 'Offline'],
    ['an override wins over W', busyAway, T + 1_000, T + 1_000, 'Busy'],
    ['Away underneath an expired override stays Away with W', busyAway, T + 60_000, T + 60_000, 'Away'],
  ];
  it.each(cases)('%s', (_name, view, now, w, expected) => {
    expect(effectiveStatusOfView(view, now, cfg, w)).toBe(expected);
    expect(readView(view, now, cfg, 'self', w).status).toBe(expected);
    expect(gateStatus(view, now, cfg, 'trusted', w)).toBe(expected);
  });

  it('the Offline lease of a hand-made view that had run out at emission is not extended', () => {
    const stale = { ...online, emittedAt: T + 50_000 };
    expect(effectiveStatusOfView(stale, T + 50_001, cfg, T + 50_000)).toBe('Offline');
  });

  it('null (the default) is exactly the lease rule', () => {
    for (const v of [online, idling, away, busyAway, gone]) {
      for (const dt of [0, 9_999, 10_000, 44_999, 45_000, 59_999, 60_000, 600_000]) {
        expect(effectiveStatusOfView(v, T + dt, cfg, null)).toBe(effectiveStatusOfView(v, T + dt, cfg));
        expect(readView(v, T + dt, cfg, 'others', null)).toEqual(readView(v, T + dt, cfg, 'others'));
        expect(readViewNextChange(v, T + dt, cfg, null)).toBe(readViewNextChange(v, T + dt, cfg));
      }
    }
  });
});

describe('readView and readViewNextChange with a partition watermark', () => {
  it('keeps the devices listed while W holds them, and stamps a stall at W + grace', () => {
    expect(readView(online, T + 600_000, cfg, 'others', T + 599_000)).toBe(online);
    const stalled = readView(online, T + 700_000, cfg, 'others', T + 600_000);
    expect(stalled).toMatchObject({ status: 'Offline', statusSince: T + 605_000, devices: [] });
    expect(readView(idling, T + 30_000, cfg, 'self', T + 20_000)).toMatchObject({ status: 'Away', statusSince: T + 25_000 });
  });
  it('an invisible user still reads Offline to others', () => {
    expect(gateStatus({ ...online, visibility: 'nobody' }, T + 600_000, cfg, 'others', T + 599_000)).toBe('Offline');
    expect(gateStatus({ ...online, visibility: 'nobody' }, T + 600_000, cfg, 'trusted', T + 599_000)).toBe('Online');
  });
  it('the next change is W + grace once the leases are behind it', () => {
    expect(readViewNextChange(online, T + 100_000, cfg, T + 99_000)).toBe(T + 104_000);
    expect(readViewNextChange(online, T + 1_000, cfg, T + 1_000)).toBe(T + 45_000); // the lease comes later
    expect(readViewNextChange(online, T + 1_000, cfg, null)).toBe(T + 45_000);
    expect(readViewNextChange(away, T + 10_000, cfg, T + 10_000)).toBe(T + 45_000); // Away is never extended
    expect(readViewNextChange(online, T + 200_000, cfg, T + 100_000)).toBe(T + 300_000); // stalled: only the away lease is left
  });
});

describe('snapshotLeases: watermark (the processor side)', () => {
  const start = applyEvent(initialUserState(U), hb(T), T, wm);
  const emitted = userView(start, T, wm);
  it('no lease refresh for an Online user however long the heartbeats go on', () => {
    let s = start;
    for (let t = T + 15_000; t <= T + 3_600_000; t += 15_000) {
      s = applyEvent(s, hb(t), t, wm);
      expect(snapshotDecision(emitted, s, t, wm)).toEqual({ emit: false, reason: 'unchanged' });
    }
    expect(nextSnapshotCheck(emitted, s, wm)).toBeNull();
    // The same user in per-user mode refreshes at lastSeen + 45 s − 15 s.
    expect(nextSnapshotCheck(emitted, applyEvent(start, hb(T + 15_000), T + 15_000, cfg), cfg)).toBe(T + 30_000);
  });
  it('still emits on a visible change', () => {
    const s = applyEvent(start, ov('DoNotDisturb', T + 1), T + 1, wm);
    expect(snapshotDecision(emitted, s, T + 1, wm)).toEqual({ emit: true, reason: 'changed' });
  });
  it('refreshes an Away-underneath view before its override expires, only when activity advanced', () => {
    // Another session, already ended, whose late heartbeat still raises the merged activity.
    const other = { userId: U, deviceId: 'd2', sessionId: 's2', platform: 'ios' as const };
    let s0 = applyEvent(initialUserState(U), hb(T, 400_000), T, wm);
    s0 = applyEvent(s0, { type: 'disconnect', ...other, observedAt: T }, T, wm);
    s0 = applyEvent(s0, ov('Busy', T, T + 60_000), T, wm);
    const e0 = userView(s0, T, wm);
    expect(nextSnapshotCheck(e0, s0, wm)).toBeNull();
    // Fresh activity on the live session itself turns its device active: a change, emitted at once.
    expect(snapshotDecision(e0, applyEvent(s0, hb(T + 15_000, 0), T + 15_000, wm), T + 15_000, wm)).toEqual({ emit: true, reason: 'changed' });
    // Activity that changes no device (the ended session's late heartbeat) needs the refresh.
    let s1 = applyEvent(s0, hb(T + 15_000, 415_000), T + 15_000, wm); // still idle, still live at T + 45 s
    s1 = applyEvent(s1, { type: 'heartbeat', ...other, observedAt: T - 1, idleMs: 0 }, T + 15_000, wm);
    expect(s1.lastActivity).toBe(T - 1);
    expect(snapshotDecision(e0, s1, T + 15_000, wm)).toEqual({ emit: false, reason: 'unchanged' });
    expect(nextSnapshotCheck(e0, s1, wm)).toBe(T + 60_000 - 15_000);
    expect(snapshotDecision(e0, s1, T + 45_000, wm)).toEqual({ emit: true, reason: 'lease-refresh' });
  });
  it('needs no refresh under an override without expiry, Available, or an active lease', () => {
    const busy = applyEvent(applyEvent(initialUserState(U), hb(T, 400_000), T, wm), ov('Busy', T), T, wm);
    expect(nextSnapshotCheck(userView(busy, T, wm), applyEvent(busy, hb(T + 1), T + 1, wm), wm)).toBeNull();
    const avail = applyEvent(applyEvent(initialUserState(U), hb(T, 400_000), T, wm), ov('Available', T, T + 60_000), T, wm);
    expect(nextSnapshotCheck(userView(avail, T, wm), applyEvent(avail, hb(T + 1), T + 1, wm), wm)).toBeNull();
    const dnd = applyEvent(start, ov('DoNotDisturb', T, T + 60_000), T, wm);
    expect(nextSnapshotCheck(userView(dnd, T, wm), applyEvent(dnd, hb(T + 1), T + 1, wm), wm)).toBeNull();
    expect(nextSnapshotCheck(userView(initialUserState(U), T, wm), start, wm)).toBeNull();
  });
});
