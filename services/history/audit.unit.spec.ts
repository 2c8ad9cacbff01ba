import type { UserEvent } from '../core';
import { setByOf, settingOf, visibleSettings, type Setting } from './audit';
import { history, statusAt, type StatusChange } from './timeline';

const T = 1_800_000_000_000;
const TOL = 5_000;
const alice = { kind: 'user' as const, id: 'alice' };
const ops = { kind: 'admin' as const, id: 'ops' };
const set = (at: number, value: string, o: Partial<Setting> = {}): Setting => ({
  at, kind: 'status', value, customText: null, expiresAt: null, actor: alice, reason: null, eventId: `e-${at}-${value}`, ...o,
});
const change = (at: number, from: StatusChange['from'], to: StatusChange['to'], cause = 'event', version = at): StatusChange => ({ at, from, to, cause, version });

describe('settingOf', () => {
  it.each<[string, UserEvent, Setting | null]>([
    ['an override with its audit', { type: 'override', userId: 'alice', status: 'DoNotDisturb', customText: 'focus', expiresAt: T + 10, setAt: T, eventId: 'e1', actor: alice, reason: 'deep work' },
      { at: T, kind: 'status', value: 'DoNotDisturb', customText: 'focus', expiresAt: T + 10, actor: alice, reason: 'deep work', eventId: 'e1' }],
    ['a visibility write without one (written before the audit existed)', { type: 'visibility', userId: 'alice', visibility: 'nobody', setAt: T, eventId: 'e2' },
      { at: T, kind: 'visibility', value: 'nobody', customText: null, expiresAt: null, actor: null, reason: null, eventId: 'e2' }],
    ['a last-seen privacy write by an integration', { type: 'lastSeenPrivacy', userId: 'alice', lastSeenPrivacy: 'hidden', setAt: T, eventId: 'e3', actor: { kind: 'integration', id: 'hr' } },
      { at: T, kind: 'lastSeenPrivacy', value: 'hidden', customText: null, expiresAt: null, actor: { kind: 'integration', id: 'hr' }, reason: null, eventId: 'e3' }],
    ['a heartbeat is no setting', { type: 'heartbeat', userId: 'alice', deviceId: 'd', sessionId: 's', platform: 'web', observedAt: T, idleMs: 0 }, null],
  ])('%s', (_name, event, expected) => {
    expect(settingOf(event)).toEqual(expected);
  });
});

describe('setByOf: which setting began an event-driven change', () => {
  const dnd = set(T, 'DoNotDisturb', { reason: 'focus' });
  it.each<[string, StatusChange, number, Setting[], Partial<Setting> | null, number?]>([
    ['DND applied 20 ms after it was set', change(T + 20, 'Online', 'DoNotDisturb'), T - 60_000, [dnd], { at: T, reason: 'focus' }],
    ['Busy → Busy interval', change(T + 5, 'Online', 'Busy'), -Infinity, [set(T, 'Busy', { actor: ops })], { at: T, actor: ops }],
    ['Appear Offline begins an Offline interval', change(T + 5, 'Online', 'Offline'), -Infinity, [set(T, 'AppearOffline')], { at: T }],
    ['Available ends a DND interval', change(T + 60_005, 'DoNotDisturb', 'Online'), T + 20, [dnd, set(T + 60_000, 'Available', { reason: 'done' })], { at: T + 60_000, reason: 'done' }],
    ['a clock-driven change (the DND expired) has none', change(T + 60_000, 'DoNotDisturb', 'Online', 'clock'), T + 20, [set(T, 'DoNotDisturb', { expiresAt: T + 60_000 })], null],
    ['a heartbeat long after Available: the setting was already in force before the previous change', change(T + 300_000, 'Offline', 'Online'), T + 200_000, [set(T, 'Available')], null],
    ['a disconnect while DND is in force does not change the status, and an Online → Offline is not DND\'s', change(T + 50, 'Online', 'Offline'), T + 20, [dnd], null],
    ['a setting that does not explain the status is not taken', change(T + 20, 'Online', 'Busy'), -Infinity, [dnd], null],
    ['an expired override explains nothing', change(T + 20, 'Online', 'DoNotDisturb'), -Infinity, [set(T, 'DoNotDisturb', { expiresAt: T + 10 })], null],
    ['the last write by (setAt, eventId) wins', change(T + 20, 'Online', 'DoNotDisturb'), -Infinity, [set(T, 'DoNotDisturb', { eventId: 'b', reason: 'second' }), set(T, 'DoNotDisturb', { eventId: 'a', reason: 'first' })], { reason: 'second' }],
    ['a gateway clock ahead of the processor\'s (within the tolerance)', change(T, 'Online', 'DoNotDisturb'), -Infinity, [set(T + 2_000, 'DoNotDisturb')], { at: T + 2_000 }],
    ['… but not beyond it', change(T, 'Online', 'DoNotDisturb'), -Infinity, [set(T + 6_000, 'DoNotDisturb')], null],
    ['… nor after the next change', change(T, 'Online', 'DoNotDisturb'), -Infinity, [set(T + 2_000, 'DoNotDisturb')], null, T + 1_000],
    ['… nor an Available set just after a heartbeat brought the user Online', change(T, 'Offline', 'Online'), -Infinity, [set(T + 300, 'Available')], null],
    ['a status setting only: visibility writes never begin an interval', change(T + 20, 'Online', 'Offline'), -Infinity, [set(T, 'nobody', { kind: 'visibility' })], null],
  ])('%s', (_name, c, previousAt, settings, expected, nextAt = Infinity) => {
    const got = setByOf(c, previousAt, nextAt, settings, TOL);
    if (expected === null) expect(got).toBeNull();
    else expect(got).toMatchObject({ ...(expected.at === undefined ? {} : { at: expected.at }), ...(expected.actor ? { actor: expected.actor } : {}), ...(expected.reason ? { reason: expected.reason } : {}) });
  });
});

describe('history with the audit', () => {
  const changes = [change(T - 1_000, 'Offline', 'Online'), change(T + 20, 'Online', 'DoNotDisturb'), change(T + 60_005, 'DoNotDisturb', 'Online')];
  const settings = [set(T, 'DoNotDisturb', { reason: 'focus' }), set(T + 60_000, 'Available')];
  const audit = { settings, toleranceMs: TOL };
  it('each interval begun by a manual status says who set it and why', () => {
    const ivs = history(changes, { from: T - 10_000, to: T + 120_000 }, T + 120_000, undefined, audit);
    expect(ivs.map((iv) => [iv.status, iv.setBy?.actor?.id ?? null, iv.setBy?.reason ?? null])).toEqual([
      ['Offline', null, null], ['Online', null, null], ['DoNotDisturb', 'alice', 'focus'], ['Online', 'alice', null],
    ]);
  });
  it('the first interval of a window keeps its attribution when clipped', () => {
    const ivs = history(changes, { from: T + 30_000, to: T + 40_000 }, T + 120_000, undefined, audit);
    expect(ivs).toEqual([{ status: 'DoNotDisturb', from: T + 30_000, to: T + 40_000, cause: 'event', setBy: { at: T, status: 'DoNotDisturb', actor: alice, reason: 'focus' } }]);
  });
  it('the status at an instant carries the same attribution as its interval', () => {
    expect(statusAt(changes, T + 30_000, T + 120_000, undefined, audit)).toEqual({
      status: 'DoNotDisturb', since: T + 20, until: T + 60_005, cause: 'event', setBy: { at: T, status: 'DoNotDisturb', actor: alice, reason: 'focus' },
    });
    expect(statusAt(changes, T, T + 120_000, undefined, audit)).not.toHaveProperty('setBy');
  });
  it('others never see that an Offline was a manual Appear Offline; the user does', () => {
    const hidden = [change(T + 20, 'Online', 'Offline')];
    const with_ = { settings: [set(T, 'AppearOffline')], toleranceMs: TOL };
    const w = { from: T, to: T + 1_000 };
    expect(history(hidden, w, T + 1_000, { viewer: 'others', current: 'everyone', marks: [] }, with_).map((iv) => iv.setBy)).toEqual([undefined, undefined]);
    expect(history(hidden, w, T + 1_000, undefined, with_)[1]?.setBy?.status).toBe('AppearOffline');
  });
  it('a period hidden from others (invisible then) carries no attribution', () => {
    const ivs = history(changes, { from: T - 10_000, to: T + 120_000 }, T + 120_000, { viewer: 'others', current: 'everyone', marks: [{ at: T - 20_000, visibility: 'everyone' }, { at: T, visibility: 'nobody' }, { at: T + 30_000, visibility: 'everyone' }] }, audit);
    expect(ivs.filter((iv) => iv.from < T + 30_000 && iv.to > T).every((iv) => iv.setBy === undefined && iv.status === 'Offline')).toBe(true);
    // After the hidden period the DND interval shows again, with its attribution.
    expect(ivs.find((iv) => iv.from === T + 30_000)?.setBy?.reason).toBe('focus');
  });
});

describe('visibleSettings', () => {
  const all = [
    set(T, 'DoNotDisturb'), set(T + 1, 'nobody', { kind: 'visibility' }), set(T + 2, 'AppearOffline'), set(T + 3, 'hidden', { kind: 'lastSeenPrivacy' }),
    set(T + 4, 'Busy'), set(T + 100, 'Available'), set(T + 200, 'Busy'),
  ];
  const w = { from: T, to: T + 200 };
  it.each<[string, 'self' | 'others', { from: number; to: number }[], string[]]>([
    ['the user sees all of theirs in the window, in order', 'self', [], ['DoNotDisturb', 'nobody', 'AppearOffline', 'hidden', 'Busy', 'Available']],
    ['others: manual statuses they could see anyway', 'others', [], ['DoNotDisturb', 'Busy', 'Available']],
    ['others: nothing from a hidden period', 'others', [{ from: T + 50, to: T + 150 }], ['DoNotDisturb', 'Busy']],
    ['others: nothing while the user is invisible now', 'others', [{ from: -Infinity, to: Infinity }], []],
  ])('%s', (_name, viewer, hidden, values) => {
    expect(visibleSettings(all, w, viewer, hidden).map((s) => s.value)).toEqual(values);
  });
});
