import { DEFAULT_CONFIG as cfg } from './config';
import type { EffectiveStatus, OverrideStatus, Platform, UserEvent } from './events';
import {
  applyEvent,
  effectiveStatus,
  effectiveStatusOfView,
  evolve,
  initialUserState,
  lastSeenApprox,
  lastSeenPrivacyOf,
  nextDeadline,
  nextSnapshotCheck,
  readView,
  snapshotDecision,
  statusTransition,
  tick,
  userView,
  viewChanged,
  viewDiffers,
} from './user';
import type { UserState, UserView } from './user';

const T = 1_700_000_000_000;
const U = 'u1';

const hb = (at: number, idleMs = 0, sessionId = 'tab1', deviceId = 'laptop', platform: Platform = 'web'): UserEvent => ({
  type: 'heartbeat',
  userId: U,
  deviceId,
  sessionId,
  platform,
  observedAt: at,
  idleMs,
});
const bye = (at: number, sessionId = 'tab1', deviceId = 'laptop', platform: Platform = 'web'): UserEvent => ({
  type: 'disconnect',
  userId: U,
  deviceId,
  sessionId,
  platform,
  observedAt: at,
});
const ov = (
  status: OverrideStatus,
  setAt: number,
  expiresAt: number | null = null,
  eventId = `e${setAt}`,
  customText: string | null = null,
): UserEvent => ({ type: 'override', userId: U, status, customText, expiresAt, setAt, eventId });
const vis = (visibility: 'everyone' | 'nobody', setAt: number, eventId = `v${setAt}`): UserEvent => ({
  type: 'visibility',
  userId: U,
  visibility,
  setAt,
  eventId,
});

const lsp = (lastSeenPrivacy: 'exact' | 'coarse' | 'hidden', setAt: number, eventId = `l${setAt}`): UserEvent => ({
  type: 'lastSeenPrivacy',
  userId: U,
  lastSeenPrivacy,
  setAt,
  eventId,
});

const given = (events: readonly UserEvent[], state: UserState = initialUserState(U)): UserState =>
  events.reduce((s, e) => evolve(s, e, cfg), state);

describe('effectiveStatus: every branch of the order', () => {
  const cases: readonly [string, readonly UserEvent[], number, EffectiveStatus][] = [
    ['no heartbeat ever → Offline', [], T, 'Offline'],
    ['only a disconnect seen → Offline', [bye(T)], T + 1, 'Offline'],
    ['Available override, never heard from → Offline', [ov('Available', T)], T + 1, 'Offline'],
    ['fresh heartbeat, active → Online', [hb(T)], T + 1_000, 'Online'],
    [
      'backgrounded tab reporting 40 s idle right after an active tab reported 0 → Online',
      [hb(T, 0, 'active'), hb(T + 100, 40_000, 'background')],
      T + 200,
      'Online',
    ],
    [
      'the same two heartbeats in the other order → Online',
      [hb(T + 100, 40_000, 'background'), hb(T, 0, 'active')],
      T + 200,
      'Online',
    ],
    ['idle for the away threshold → Away', [hb(T, 300_000)], T, 'Away'],
    ['idle 1 ms short of the away threshold → Online', [hb(T, 299_999)], T, 'Online'],
    ['active at T, now T + away (heartbeats kept coming, idle) → Away', [hb(T), hb(T + 300_000, 300_000)], T + 300_000, 'Away'],
    ['last heartbeat 1 ms short of the offline threshold → Online', [hb(T)], T + 44_999, 'Online'],
    ['last heartbeat older than the offline threshold → Offline', [hb(T)], T + 45_000, 'Offline'],
    ['clean disconnect of the last session → Offline at once', [hb(T), bye(T + 1)], T + 2, 'Offline'],
    ['clean disconnect with another live session → Online', [hb(T, 0, 'a'), hb(T, 0, 'b'), bye(T + 1, 'a')], T + 2, 'Online'],
    ['disconnect then a later heartbeat revives the session → Online', [hb(T), bye(T + 1), hb(T + 2)], T + 3, 'Online'],
    ['a late, older heartbeat does not revive an ended session', [hb(T), bye(T + 10), hb(T + 5)], T + 11, 'Offline'],
    ['disconnect arriving before its heartbeat (reordered) still ends it', [bye(T + 10), hb(T)], T + 11, 'Offline'],
    ['AppearOffline while heartbeats continue → Offline', [ov('AppearOffline', T), hb(T), hb(T + 15_000)], T + 15_001, 'Offline'],
    ['DoNotDisturb set before a meeting is not overridden by an idle tab', [ov('DoNotDisturb', T), hb(T + 600_000, 600_000)], T + 600_001, 'DoNotDisturb'],
    ['DoNotDisturb while active → DoNotDisturb', [ov('DoNotDisturb', T), hb(T)], T + 1, 'DoNotDisturb'],
    ['DoNotDisturb applies with no live session', [ov('DoNotDisturb', T)], T + 1, 'DoNotDisturb'],
    ['Busy → Busy', [ov('Busy', T), hb(T)], T + 1, 'Busy'],
    ['Busy 1 ms before expiry → Busy', [ov('Busy', T, T + 60_000), hb(T + 30_000)], T + 59_999, 'Busy'],
    ['an override past its expiry no longer applies', [ov('Busy', T, T + 60_000), hb(T + 30_000)], T + 60_000, 'Online'],
    ['expired AppearOffline no longer hides', [ov('AppearOffline', T, T + 10), hb(T + 20)], T + 21, 'Online'],
    ['expired DoNotDisturb falls through to Away', [ov('DoNotDisturb', T, T + 10), hb(T + 20, 400_000)], T + 21, 'Away'],
    ['Available override → normal rules', [ov('Available', T), hb(T)], T + 1, 'Online'],
    ['newer override wins (LWW)', [ov('Busy', T + 2), ov('DoNotDisturb', T + 1), hb(T)], T + 3, 'Busy'],
    ['newer Available clears an older Busy', [ov('Available', T + 2), ov('Busy', T + 1), hb(T)], T + 3, 'Online'],
    ['equal setAt: greater eventId wins', [ov('Busy', T, null, 'b'), ov('DoNotDisturb', T, null, 'a'), hb(T)], T + 1, 'Busy'],
    ['equal setAt: greater eventId wins, either order', [ov('DoNotDisturb', T, null, 'a'), ov('Busy', T, null, 'b'), hb(T)], T + 1, 'Busy'],
  ];
  it.each(cases)('%s', (_name, events, now, expected) => {
    expect(effectiveStatus(given(events), now, cfg)).toBe(expected);
    // The reader's recompute from a snapshot taken now agrees.
    expect(effectiveStatusOfView(userView(given(events), now, cfg), now, cfg)).toBe(expected);
  });
});

describe('evolve', () => {
  it('returns the same state for a duplicate or an older heartbeat', () => {
    const s = given([hb(T)]);
    expect(evolve(s, hb(T), cfg)).toBe(s);
    const s2 = given([hb(T + 10, 5)]);
    expect(evolve(s2, hb(T + 5, 100), cfg)).toBe(s2);
  });
  it('an older heartbeat with less idleness still raises last activity (MAX of observedAt − idleMs)', () => {
    const s = evolve(given([hb(T + 10, 10_000)]), hb(T + 5, 0), cfg);
    expect(s.lastActivity).toBe(T + 5);
    expect(s.lastSeen).toBe(T + 10);
    expect(s.sessions[0]?.lastActivity).toBe(T + 5);
  });
  it('bumps version on every change only', () => {
    const s = given([hb(T), hb(T + 1), hb(T + 1), ov('Busy', T), ov('Busy', T), vis('nobody', T), vis('nobody', T)]);
    expect(s.version).toBe(4);
  });
  it('keeps sessions sorted by (deviceId, sessionId)', () => {
    const s = given([hb(T, 0, 'b', 'phone'), hb(T, 0, 'z', 'laptop'), hb(T, 0, 'a', 'laptop')]);
    expect(s.sessions.map((x) => `${x.deviceId}/${x.sessionId}`)).toEqual(['laptop/a', 'laptop/z', 'phone/b']);
  });
  it('platform follows the latest heartbeat; ties go to the greatest name; disconnects only before any heartbeat', () => {
    expect(given([hb(T, 0, 's', 'd', 'ios'), hb(T + 1, 0, 's', 'd', 'android')]).sessions[0]?.platform).toBe('android');
    expect(given([hb(T + 1, 0, 's', 'd', 'android'), hb(T, 0, 's', 'd', 'ios')]).sessions[0]?.platform).toBe('android');
    expect(given([hb(T, 0, 's', 'd', 'android'), hb(T, 0, 's', 'd', 'ios')]).sessions[0]?.platform).toBe('ios');
    expect(given([hb(T, 0, 's', 'd', 'ios'), hb(T, 0, 's', 'd', 'android')]).sessions[0]?.platform).toBe('ios');
    expect(given([bye(T, 's', 'd', 'ios'), bye(T + 1, 's', 'd', 'android')]).sessions[0]?.platform).toBe('android');
    expect(given([bye(T, 's', 'd', 'android'), bye(T, 's', 'd', 'ios')]).sessions[0]?.platform).toBe('ios');
    expect(given([bye(T, 's', 'd', 'ios'), bye(T, 's', 'd', 'android')]).sessions[0]?.platform).toBe('ios');
    expect(given([bye(T + 1, 's', 'd', 'ios'), bye(T, 's', 'd', 'android')]).sessions[0]?.platform).toBe('ios');
    expect(given([bye(T, 's', 'd', 'ios'), hb(T - 5, 0, 's', 'd', 'web')]).sessions[0]?.platform).toBe('web');
    expect(given([hb(T - 5, 0, 's', 'd', 'web'), bye(T, 's', 'd', 'ios')]).sessions[0]?.platform).toBe('web');
  });
  it('a repeated disconnect is a no-op', () => {
    const s = given([hb(T), bye(T + 1)]);
    expect(evolve(s, bye(T + 1), cfg)).toBe(s);
    expect(evolve(s, bye(T), cfg)).toBe(s);
  });
  it('override and visibility registers are LWW by (setAt, eventId), then content', () => {
    const a = given([ov('Busy', T, null, 'x', 'a')]);
    expect(evolve(a, ov('Busy', T, null, 'x', 'a'), cfg)).toBe(a);
    expect(evolve(a, ov('Busy', T, null, 'x', 'b'), cfg).override?.customText).toBe('b');
    expect(evolve(a, ov('Busy', T, null, 'x', null), cfg)).toBe(a);
    expect(evolve(a, ov('DoNotDisturb', T, null, 'x', 'a'), cfg).override?.status).toBe('DoNotDisturb');
    expect(evolve(a, ov('Available', T, null, 'x', 'a'), cfg)).toBe(a);
    expect(evolve(a, ov('Busy', T, 5 + T, 'x', 'a'), cfg).override?.expiresAt).toBe(T + 5);
    expect(evolve(given([ov('Busy', T, T + 5, 'x', 'a')]), ov('Busy', T, null, 'x', 'a'), cfg).override?.expiresAt).toBe(T + 5);
    expect(evolve(given([ov('Busy', T, null, 'x', null)]), ov('Busy', T, null, 'x', 'z'), cfg).override?.customText).toBe('z');
    expect(evolve(a, ov('Busy', T - 1, null, 'z'), cfg)).toBe(a);
    const v = given([vis('nobody', T, 'x')]);
    expect(evolve(v, vis('everyone', T, 'x'), cfg)).toBe(v);
    expect(evolve(given([vis('everyone', T, 'x')]), vis('nobody', T, 'x'), cfg).visibility?.visibility).toBe('nobody');
    expect(evolve(v, vis('everyone', T + 1, 'a'), cfg).visibility?.visibility).toBe('everyone');
  });
  it('bounds sessions per user, evicting ended ones first, then the least recently seen', () => {
    const small = { ...cfg, maxSessionsPerUser: 2 };
    const run = (events: UserEvent[]) => events.reduce((s, e) => evolve(s, e, small), initialUserState(U));
    const live = run([hb(T, 0, 'a'), hb(T + 1, 0, 'b'), hb(T + 2, 0, 'c')]);
    expect(live.sessions.map((s) => s.sessionId)).toEqual(['b', 'c']);
    const ended = run([hb(T + 5, 0, 'a'), hb(T, 0, 'b'), bye(T + 6, 'a'), hb(T + 7, 0, 'c')]);
    expect(ended.sessions.map((s) => s.sessionId)).toEqual(['b', 'c']);
    // A newcomer that ranks lowest is itself dropped, leaving the sessions unchanged.
    const same = run([hb(T + 5, 0, 'a'), hb(T + 6, 0, 'b'), bye(T, 'c')]);
    expect(same.sessions.map((s) => s.sessionId)).toEqual(['a', 'b']);
    expect(same.version).toBe(2);
    const oldHb = run([hb(T + 5, 0, 'a'), hb(T + 6, 0, 'b'), hb(T, 0, 'c')]);
    expect(oldHb.sessions.map((s) => s.sessionId)).toEqual(['a', 'b']);
    expect(oldHb.lastSeen).toBe(T + 6);
    // Equal recency: the smaller key goes first.
    const tie = run([hb(T, 0, 'b'), hb(T, 0, 'a'), hb(T, 0, 'c')]);
    expect(tie.sessions.map((s) => s.sessionId)).toEqual(['b', 'c']);
    // Two ended sessions, one only ever seen disconnecting, in either position.
    expect(run([bye(T + 5, 'a'), hb(T, 0, 'b'), bye(T + 1, 'b'), hb(T + 2, 0, 'c')]).sessions.map((s) => s.sessionId)).toEqual(['a', 'c']);
    expect(run([hb(T, 0, 'a'), bye(T + 9, 'a'), bye(T + 5, 'b'), hb(T + 2, 0, 'c')]).sessions.map((s) => s.sessionId)).toEqual(['a', 'c']);
    const tie2 = run([hb(T, 0, 'c'), hb(T, 0, 'b'), hb(T, 0, 'a')]);
    expect(tie2.sessions.map((s) => s.sessionId)).toEqual(['b', 'c']);
  });
  it('throws only for an event type the compiler rules out', () => {
    expect(() => evolve(initialUserState(U), { type: 'bogus' } as unknown as UserEvent, cfg)).toThrow('unreachable');
  });
});

describe('tick and applyEvent: statusSince', () => {
  it('records a clock-driven transition at the exact deadline, even when the timer is late', () => {
    const s = applyEvent(initialUserState(U), hb(T), T, cfg);
    expect(s.status).toBe('Online');
    expect(s.statusSince).toBe(T);
    const late = tick(s, T + 45_000 + 7_000, cfg);
    expect(late.status).toBe('Offline');
    expect(late.statusSince).toBe(T + 45_000);
    expect(late.version).toBe(s.version + 1);
  });
  it('records Away at lastActivity + away', () => {
    let s = applyEvent(initialUserState(U), hb(T, 10_000), T, cfg);
    for (let t = T + 15_000; t < T + 320_000; t += 15_000) s = applyEvent(s, hb(t, 10_000 + t - T), t, cfg);
    expect(s.status).toBe('Away');
    expect(s.statusSince).toBe(T - 10_000 + 300_000);
  });
  it('records override expiry at expiresAt', () => {
    let s = applyEvent(initialUserState(U), ov('DoNotDisturb', T, T + 20_000), T, cfg);
    s = applyEvent(s, hb(T), T, cfg);
    expect(s.status).toBe('DoNotDisturb');
    s = applyEvent(s, hb(T + 30_000), T + 30_000, cfg);
    expect(s.status).toBe('Online');
    expect(s.statusSince).toBe(T + 20_000);
  });
  it('records an event-driven change at now', () => {
    const s = applyEvent(applyEvent(initialUserState(U), hb(T), T, cfg), bye(T + 5), T + 7, cfg);
    expect(s.status).toBe('Offline');
    expect(s.statusSince).toBe(T + 7);
  });
  it('an event that changes nothing returns the ticked state', () => {
    const s = applyEvent(initialUserState(U), hb(T), T, cfg);
    expect(applyEvent(s, hb(T), T + 1, cfg)).toBe(s);
  });
  it('an event that changes state but not status keeps statusSince', () => {
    const s = applyEvent(applyEvent(initialUserState(U), hb(T), T, cfg), hb(T + 15_000), T + 15_000, cfg);
    expect(s.statusSince).toBe(T);
  });
  it('falls back to now when a status was never recorded (evolve without applyEvent)', () => {
    const s = tick(given([hb(T)]), T + 1, cfg);
    expect(s.status).toBe('Online');
    expect(s.statusSince).toBe(T + 1);
  });
  it('prunes sessions dead for sessionRetentionMs, and nothing else', () => {
    const s = given([hb(T, 0, 'ended'), bye(T + 1, 'ended'), hb(T, 0, 'silent'), bye(T + 2, 'never-seen'), hb(T + 3_600_000, 0, 'live')]);
    const now = T + 3_600_001;
    const pruned = tick(s, now, cfg);
    expect(pruned.sessions.map((x) => x.sessionId)).toEqual(['live', 'never-seen', 'silent']);
    expect(tick(s, T + 3_600_000, cfg).sessions).toHaveLength(4);
    expect(tick(s, T + 3_645_000, cfg).sessions.map((x) => x.sessionId)).toEqual(['live']);
    expect(pruned.lastSeen).toBe(T + 3_600_000);
    const again = tick(pruned, now, cfg);
    expect(again).toBe(pruned);
  });
});

describe('nextDeadline', () => {
  it('is null for a user never seen', () => {
    expect(nextDeadline(initialUserState(U), T, cfg)).toBeNull();
  });
  it('is the offline instant of an active user', () => {
    expect(nextDeadline(given([hb(T)]), T, cfg)).toBe(T + 45_000);
  });
  it('is the away instant when it comes first', () => {
    expect(nextDeadline(given([hb(T, 290_000)]), T, cfg)).toBe(T + 10_000);
  });
  it('is each session expiry, then the prune instant', () => {
    const s = given([hb(T, 0, 'a'), hb(T + 10_000, 0, 'b')]);
    expect(nextDeadline(s, T, cfg)).toBe(T + 45_000);
    expect(nextDeadline(s, T + 45_000, cfg)).toBe(T + 55_000);
    expect(nextDeadline(s, T + 55_000, cfg)).toBe(T + 45_000 + 3_600_000);
    expect(nextDeadline(s, T + 55_000 + 3_600_000, cfg)).toBeNull();
  });
  it('includes override expiry', () => {
    expect(nextDeadline(given([ov('Busy', T, T + 5)]), T, cfg)).toBe(T + 5);
    expect(nextDeadline(given([ov('Busy', T, null)]), T, cfg)).toBeNull();
  });
});

describe('userView and readers', () => {
  const s = applyEvent(
    applyEvent(applyEvent(initialUserState(U), hb(T, 0, 's2', 'phone', 'ios'), T, cfg), hb(T + 1, 0, 's1', 'laptop'), T + 1, cfg),
    ov('Busy', T + 2, T + 100_000, 'e', 'in a meeting'),
    T + 2,
    cfg,
  );
  const view = userView(s, T + 2, cfg);
  it('lists live devices sorted, the override and the leases', () => {
    expect(view).toEqual({
      userId: U,
      status: 'Busy',
      statusSince: T + 2,
      lastSeen: T + 1,
      lastActive: T + 1,
      override: { status: 'Busy', customText: 'in a meeting', expiresAt: T + 100_000 },
      visibility: 'everyone',
      lastSeenPrivacy: 'exact',
      devices: [
        { deviceId: 'laptop', sessionId: 's1', platform: 'web', gatewayId: null, active: true },
        { deviceId: 'phone', sessionId: 's2', platform: 'ios', gatewayId: null, active: true },
      ],
      version: s.version,
      emittedAt: T + 2,
    });
  });
  it('drops an expired override and dead devices; lastSeen falls back to the last heartbeat', () => {
    const later = userView(s, T + 200_000, cfg);
    expect(later.override).toBeNull();
    expect(later.devices).toEqual([]);
    expect(later.lastSeen).toBe(T + 1);
    expect(later.status).toBe('Offline');
    expect(later.statusSince).toBe(T + 200_000);
  });
  it('readView recomputes status, statusSince and devices with the clock', () => {
    expect(readView(view, T + 3, cfg, 'others')).toBe(view);
    const r = readView(view, T + 100_000, cfg, 'self');
    expect(r.status).toBe('Offline');
    expect(r.statusSince).toBe(T + 100_000); // Busy until its expiry, by then devices were gone
    expect(r.devices).toEqual([]);
    expect(r.override).toBeNull();
    const r2 = readView({ ...view, override: null, lastSeen: T + 99_000 }, T + 100_000, cfg, 'self');
    expect(r2.status).toBe('Online');
    expect(r2.statusSince).toBe(T + 100_000); // inconsistent view: no candidate instant, so now
    const odd = readView({ ...view, status: 'Away' }, T + 3, cfg, 'self');
    expect(odd.status).toBe('Busy');
    expect(odd.statusSince).toBe(T + 3);
    const never = userView(initialUserState(U), T, cfg);
    expect(readView({ ...never, status: 'Online' }, T + 1, cfg, 'self')).toMatchObject({ status: 'Offline', statusSince: T + 1 });
    const avail = { ...view, status: 'Online' as const, override: { status: 'Available' as const, customText: 'hi', expiresAt: T + 5 } };
    expect(readView(avail, T + 6, cfg, 'self')).toEqual({ ...avail, override: null });
    const offline = userView(tick(s, T + 300_000, cfg), T + 300_000, cfg);
    expect(readView(offline, T + 300_001, cfg, 'self')).toBe(offline);
  });
  it('an invisible user, or one appearing offline, reads as Offline to others only', () => {
    const hiddenState = applyEvent(s, vis('nobody', T + 3), T + 3, cfg);
    const hidden = userView(hiddenState, T + 3, cfg);
    expect(readView(hidden, T + 4, cfg, 'others')).toMatchObject({
      status: 'Offline',
      devices: [],
      lastSeen: null,
      lastActive: null,
      override: null,
      statusSince: null,
    });
    expect(readView(hidden, T + 4, cfg, 'self').status).toBe('Busy');
    const ao = userView(applyEvent(s, ov('AppearOffline', T + 5), T + 5, cfg), T + 5, cfg);
    expect(readView(ao, T + 6, cfg, 'others').devices).toEqual([]);
    expect(readView(ao, T + 6, cfg, 'self').devices).toHaveLength(2);
  });
  it('viewChanged ignores lastSeen, lastActive, version and emittedAt', () => {
    expect(viewChanged(view, { ...view, lastSeen: 1, lastActive: 2, version: 99, emittedAt: 3 })).toBe(false);
    expect(viewChanged(view, { ...view, status: 'Online' })).toBe(true);
    expect(viewChanged(view, { ...view, statusSince: 1 })).toBe(true);
    expect(viewChanged(view, { ...view, visibility: 'nobody' })).toBe(true);
    expect(viewChanged(view, { ...view, override: null })).toBe(true);
    expect(viewChanged({ ...view, override: null }, { ...view, override: null })).toBe(false);
    expect(viewChanged(view, { ...view, override: { status: 'Busy', customText: null, expiresAt: T + 100_000 } })).toBe(true);
    expect(viewChanged(view, { ...view, override: { status: 'DoNotDisturb', customText: 'in a meeting', expiresAt: T + 100_000 } })).toBe(true);
    expect(viewChanged(view, { ...view, override: { status: 'Busy', customText: 'in a meeting', expiresAt: null } })).toBe(true);
    expect(viewChanged(view, { ...view, devices: view.devices.slice(1) })).toBe(true);
    const [a, b] = view.devices as [UserView['devices'][0], UserView['devices'][0]];
    expect(viewChanged(view, { ...view, devices: [a, { ...b, platform: 'android' }] })).toBe(true);
    expect(viewChanged(view, { ...view, devices: [a, { ...b, sessionId: 'x' }] })).toBe(true);
    expect(viewChanged(view, { ...view, devices: [{ ...a, deviceId: 'x' }, b] })).toBe(true);
  });
  it('viewDiffers agrees with viewChanged on the built view', () => {
    expect(viewDiffers(view, s, T + 2, cfg)).toBe(false);
    expect(viewDiffers(view, s, T + 200_000, cfg)).toBe(true);
    expect(viewDiffers({ ...view, devices: view.devices.slice(1) }, s, T + 2, cfg)).toBe(true);
    expect(viewDiffers({ ...view, devices: [...view.devices, { deviceId: 'z', sessionId: 'z', platform: 'web', gatewayId: null, active: true }] }, s, T + 2, cfg)).toBe(true);
    expect(viewDiffers({ ...view, visibility: 'nobody' }, s, T + 2, cfg)).toBe(true);
    expect(viewDiffers({ ...view, statusSince: 0 }, s, T + 2, cfg)).toBe(true);
    expect(viewDiffers(view, evolve(s, vis('nobody', T + 9), cfg), T + 2, cfg)).toBe(true);
  });
  it('statusTransition reports from/to/at, reading a first snapshot as coming from Offline', () => {
    expect(statusTransition(null, view, T + 2)).toEqual({ userId: U, from: 'Offline', to: 'Busy', at: T + 2, version: s.version });
    expect(statusTransition(view, view, T + 2)).toBeNull();
    expect(statusTransition(view, { ...view, status: 'Online', statusSince: null }, T + 9)).toMatchObject({ from: 'Busy', to: 'Online', at: T + 9 });
    expect(statusTransition(null, userView(initialUserState(U), T, cfg), T)).toBeNull();
  });
});

describe('snapshotDecision and the lease', () => {
  const start = applyEvent(initialUserState(U), hb(T), T, cfg);
  const emitted = userView(start, T, cfg);
  it('emits the first snapshot', () => {
    expect(snapshotDecision(null, start, T, cfg)).toEqual({ emit: true, reason: 'first' });
    expect(nextSnapshotCheck(null, start, cfg)).toBeNull();
  });
  it('does not emit for a heartbeat that only advances lastSeen, until the lease is due', () => {
    const s = applyEvent(start, hb(T + 15_000), T + 15_000, cfg);
    expect(snapshotDecision(emitted, s, T + 15_000, cfg)).toEqual({ emit: false, reason: 'unchanged' });
    expect(nextSnapshotCheck(emitted, s, cfg)).toBe(T + 45_000 - 15_000);
    expect(snapshotDecision(emitted, s, T + 30_000, cfg)).toEqual({ emit: true, reason: 'lease-refresh' });
  });
  it('needs no refresh while the state has nothing newer', () => {
    expect(nextSnapshotCheck(emitted, start, cfg)).toBeNull();
  });
  it('refreshes the Away lease when activity advanced and Away would come before Offline', () => {
    const s0 = applyEvent(initialUserState(U), hb(T, 280_000), T, cfg);
    const e0 = userView(s0, T, cfg);
    const s1 = applyEvent(s0, hb(T + 1, 0), T + 1, cfg);
    // Activity advanced but the lastSeen lease also advanced: the Away lease (T + 20 s) comes first.
    expect(nextSnapshotCheck(e0, s1, cfg)).toBe(T - 280_000 + 300_000 - 15_000);
    const s2 = { ...s0, lastActivity: T - 279_000 };
    expect(nextSnapshotCheck(e0, s2, cfg)).toBe(T + 20_000 - 15_000);
  });
  it('renews the devices\' lease under an override too (readers route to them), defers the activity lease while it holds', () => {
    const s0 = applyEvent(applyEvent(initialUserState(U), ov('Busy', T), T, cfg), hb(T), T, cfg);
    const e0 = userView(s0, T, cfg);
    const s1 = applyEvent(s0, hb(T + 15_000), T + 15_000, cfg);
    expect(nextSnapshotCheck(e0, s1, cfg)).toBe(T + 30_000);
    // Busy with no expiry: without the renewal a reader would route to no device from T + 45 s.
    expect(readView(e0, T + 45_000, cfg, 'self').devices).toEqual([]);
    const t0 = applyEvent(applyEvent(initialUserState(U), ov('Busy', T, T + 100_000), T, cfg), hb(T), T, cfg);
    const f0 = userView(t0, T, cfg);
    expect(nextSnapshotCheck(f0, applyEvent(t0, hb(T + 15_000), T + 15_000, cfg), cfg)).toBe(T + 30_000);
    // The activity lease alone (the devices' lease does not move): deferred to the override's expiry, or for good.
    const idle = (o: UserEvent) => applyEvent(applyEvent(initialUserState(U), o, T, cfg), hb(T, 280_000), T, cfg);
    const busyFor = idle(ov('Busy', T, T + 100_000));
    expect(nextSnapshotCheck(userView(busyFor, T, cfg), { ...busyFor, lastActivity: T - 279_000 }, cfg)).toBe(T + 100_000 - 15_000);
    const busy = idle(ov('Busy', T));
    expect(nextSnapshotCheck(userView(busy, T, cfg), { ...busy, lastActivity: T - 279_000 }, cfg)).toBeNull();
    const a0 = applyEvent(applyEvent(initialUserState(U), ov('Available', T), T, cfg), hb(T), T, cfg);
    const g0 = userView(a0, T, cfg);
    expect(nextSnapshotCheck(g0, applyEvent(a0, hb(T + 15_000), T + 15_000, cfg), cfg)).toBe(T + 30_000);
  });
  it('emits on a visible change', () => {
    const s = applyEvent(start, bye(T + 1), T + 1, cfg);
    expect(snapshotDecision(emitted, s, T + 1, cfg)).toEqual({ emit: true, reason: 'changed' });
  });
  it('leaseGraceMs lets a reader trust the lease longer, and defers the refresh by as much', () => {
    const graced = { ...cfg, leaseGraceMs: 30_000 };
    const s = applyEvent(start, hb(T + 15_000), T + 15_000, graced);
    expect(nextSnapshotCheck(emitted, s, graced)).toBe(T + 45_000 + 30_000 - 15_000);
    expect(effectiveStatusOfView(emitted, T + 60_000, graced)).toBe('Online');
    expect(effectiveStatusOfView(emitted, T + 75_000, graced)).toBe('Offline');
    expect(readView(emitted, T + 60_000, graced, 'self').devices).toHaveLength(1);
    expect(readView(emitted, T + 75_000, graced, 'self')).toMatchObject({ status: 'Offline', statusSince: T + 75_000, devices: [] });
    // The processor's own timer still ends the session at T + 45 s: the state and the new snapshot say Offline.
    expect(nextDeadline(start, T, graced)).toBe(T + 45_000);
    expect(userView(tick(start, T + 45_000, graced), T + 45_000, graced).status).toBe('Offline');
  });
  it('an emitted Offline view needs no lease', () => {
    const off = userView(initialUserState(U), T, cfg);
    expect(nextSnapshotCheck(off, start, cfg)).toBeNull();
  });
});

describe('last-seen privacy', () => {
  it('is a last-writer-wins register by (setAt, eventId), exact until set, and bumps the version only on a change', () => {
    expect(lastSeenPrivacyOf(initialUserState(U))).toBe('exact');
    const cases: Array<[string, UserEvent[], 'exact' | 'coarse' | 'hidden']> = [
      ['one write', [lsp('hidden', T)], 'hidden'],
      ['later wins', [lsp('hidden', T), lsp('coarse', T + 1)], 'coarse'],
      ['earlier arriving late loses', [lsp('coarse', T + 1), lsp('hidden', T)], 'coarse'],
      ['same setAt: greater eventId wins, in either order', [lsp('hidden', T, 'b'), lsp('coarse', T, 'a')], 'hidden'],
      ['same setAt, other order', [lsp('coarse', T, 'a'), lsp('hidden', T, 'b')], 'hidden'],
    ];
    for (const [name, events, expected] of cases) expect([name, lastSeenPrivacyOf(given(events))]).toEqual([name, expected]);
    const once = given([lsp('coarse', T)]);
    expect(evolve(once, lsp('coarse', T), cfg)).toBe(once);
    expect(given([hb(T), lsp('coarse', T), lsp('coarse', T)]).version).toBe(2);
    expect(userView(given([hb(T), lsp('hidden', T)]), T + 1, cfg).lastSeenPrivacy).toBe('hidden');
  });

  it('is a reader-visible change of the view', () => {
    const before = userView(given([hb(T)]), T + 1, cfg);
    const state = given([hb(T), lsp('coarse', T + 1)]);
    expect(viewChanged(before, userView(state, T + 2, cfg))).toBe(true);
    expect(viewDiffers(before, state, T + 2, cfg)).toBe(true);
  });

  const DAY = 24 * 3_600_000;
  // A user last seen `ago` ms before `now`, offline, with the given setting and visibility.
  const seen = (privacy: 'exact' | 'coarse' | 'hidden', ago: number, visibility: 'everyone' | 'nobody' = 'everyone'): UserView => ({
    ...userView(given([hb(T - ago), bye(T - ago + 1), lsp(privacy, T - ago), vis(visibility, T - ago)]), T - ago + 2, cfg),
  });
  it.each<[string, 'exact' | 'coarse' | 'hidden', number, 'everyone' | 'nobody', 'self' | 'others', boolean, string | null]>([
    // name, setting, ago, visibility, viewer, times shown, bucket
    ['exact: the times', 'exact', 5 * 60_000, 'everyone', 'others', true, null],
    ['coarse, minutes ago: recently', 'coarse', 5 * 60_000, 'everyone', 'others', false, 'recently'],
    ['coarse, 3 days ago: still recently', 'coarse', 3 * DAY, 'everyone', 'others', false, 'recently'],
    ['coarse, 5 days ago: within a week', 'coarse', 5 * DAY, 'everyone', 'others', false, 'within-week'],
    ['coarse, 30 days ago: long ago', 'coarse', 30 * DAY, 'everyone', 'others', false, 'long-ago'],
    ['hidden: nothing', 'hidden', 5 * 60_000, 'everyone', 'others', false, null],
    ['coarse but invisible: nothing', 'coarse', 5 * 60_000, 'nobody', 'others', false, null],
    ['coarse, the user themself: exact times', 'coarse', 5 * 60_000, 'everyone', 'self', true, null],
    ['hidden, the user themself: exact times', 'hidden', 5 * 60_000, 'everyone', 'self', true, null],
  ])('%s', (_name, privacy, ago, visibility, viewer, timesShown, bucket) => {
    const view = seen(privacy, ago, visibility);
    const read = readView(view, T, cfg, viewer);
    expect(read.status).toBe('Offline');
    if (timesShown) expect([read.lastSeen, read.lastActive, read.statusSince]).toEqual([view.lastSeen, view.lastActive, view.statusSince]);
    else expect([read.lastSeen, read.lastActive, read.statusSince]).toEqual([null, null, null]);
    expect(view.lastSeen).toBe(T - ago); // the snapshot itself keeps the exact times
    expect(lastSeenApprox(view, T, viewer)).toBe(bucket);
  });

  it('an online coarse user reads Online with devices to others, without times', () => {
    const view = userView(given([hb(T), lsp('coarse', T)]), T, cfg);
    const read = readView(view, T + 1_000, cfg, 'others');
    expect(read).toMatchObject({ status: 'Online', lastSeen: null, lastActive: null, statusSince: null });
    expect(read.devices).toHaveLength(1);
    expect(lastSeenApprox(view, T + 1_000, 'others')).toBe('recently');
  });
});

describe('register audit (actor, reason of the write that won)', () => {
  const alice = { kind: 'user' as const, id: 'alice' };
  const ops = { kind: 'admin' as const, id: 'ops' };
  const dnd = (setAt: number, eventId: string, audit: object): UserEvent => ({ type: 'override', userId: 'alice', status: 'DoNotDisturb', customText: null, expiresAt: null, setAt, eventId, ...audit });
  const vis = (setAt: number, eventId: string, audit: object): UserEvent => ({ type: 'visibility', userId: 'alice', visibility: 'nobody', setAt, eventId, ...audit });
  const cases: readonly [string, readonly UserEvent[], 'override' | 'visibility', object][] = [
    ['the winner keeps its actor and reason', [dnd(10, 'a', { actor: alice, reason: 'focus' })], 'override', { actor: alice, reason: 'focus' }],
    ['a later write without an audit leaves none', [dnd(10, 'a', { actor: alice }), dnd(20, 'b', {})], 'override', {}],
    ['an older write does not change the audit', [dnd(20, 'b', { actor: alice }), dnd(10, 'a', { actor: ops, reason: 'late' })], 'override', { actor: alice }],
    ['same order key and value: the audit breaks the tie (absent lowest), in either order', [vis(10, 'a', { actor: ops }), vis(10, 'a', {})], 'visibility', { actor: ops }],
    ['same order key and value, reversed', [vis(10, 'a', {}), vis(10, 'a', { actor: ops })], 'visibility', { actor: ops }],
  ];
  it.each(cases)('%s', (_name, events, register, audit) => {
    const s = events.reduce((st, e) => evolve(st, e, cfg), initialUserState('alice'));
    const r = s[register] as unknown as Record<string, unknown>;
    expect({ ...(r['actor'] ? { actor: r['actor'] } : {}), ...(r['reason'] ? { reason: r['reason'] } : {}) }).toEqual(audit);
  });
  it('the audit does not change the effective status or the snapshot view', () => {
    const a = evolve(initialUserState('alice'), dnd(10, 'a', { actor: alice, reason: 'focus' }), cfg);
    const b = evolve(initialUserState('alice'), dnd(10, 'a', {}), cfg);
    expect(effectiveStatus(a, 20, cfg)).toBe(effectiveStatus(b, 20, cfg));
    expect(userView(a, 20, cfg)).toEqual(userView(b, 20, cfg));
  });
});
