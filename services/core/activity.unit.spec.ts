import { DEFAULT_CONFIG as cfg } from './config';
import type { EffectiveStatus, OverrideStatus, UserEvent } from './events';
import { checkUserEvent } from './hygiene';
import { foldStatus } from './status';
import { activityEffect, currentActivity, type ActivitySource, type ActivityType } from './activity';
import { applyEvent, effectiveStatus, effectiveStatusOfView, evolve, initialUserState, nextDeadline, readView, tick, userView } from './user';
import type { UserState } from './user';

const T = 1_700_000_000_000;
const U = 'u1';

const hb = (at: number, idleMs = 0): UserEvent => ({ type: 'heartbeat', userId: U, deviceId: 'laptop', sessionId: 'tab', platform: 'web', observedAt: at, idleMs });
const act = (activity: ActivityType | null, o: { source?: ActivitySource; at?: number; expiresAt?: number | null; eventId?: string; customText?: string | null; emoji?: string | null } = {}): UserEvent => ({
  type: 'activity', userId: U, source: o.source ?? 'calendar', activity, customText: o.customText ?? null, emoji: o.emoji ?? null,
  expiresAt: o.expiresAt ?? null, setAt: o.at ?? T, eventId: o.eventId ?? `e-${String(activity)}-${o.at ?? T}`,
});
const manual = (status: OverrideStatus, at = T): UserEvent => ({ type: 'override', userId: U, status, customText: null, expiresAt: null, setAt: at, eventId: `o-${status}` });
const fold = (es: UserEvent[]): UserState => es.reduce((s, e) => evolve(s, e, cfg), initialUserState(U));

describe('foldStatus: the precedence table', () => {
  const P: EffectiveStatus[] = ['Online', 'Away', 'Offline'];
  it.each<[string, EffectiveStatus | null, EffectiveStatus, EffectiveStatus | null, EffectiveStatus]>([
    ['manual AppearOffline beats Presenting', 'Offline', 'Online', 'DoNotDisturb', 'Offline'],
    ['manual Busy beats Presenting (the user said otherwise)', 'Busy', 'Online', 'DoNotDisturb', 'Busy'],
    ['manual DoNotDisturb beats In a call', 'DoNotDisturb', 'Online', 'Busy', 'DoNotDisturb'],
    ['manual Busy with no live session is still Busy', 'Busy', 'Offline', 'DoNotDisturb', 'Busy'],
    ['no manual, Offline: an activity never makes an absent user Busy', null, 'Offline', 'Busy', 'Offline'],
    ['no manual, Online, Presenting/Focusing → DoNotDisturb', null, 'Online', 'DoNotDisturb', 'DoNotDisturb'],
    ['no manual, Away, In a call/meeting → Busy', null, 'Away', 'Busy', 'Busy'],
    ['no manual, no effect (Custom): presence', null, 'Away', null, 'Away'],
  ])('%s', (_name, m, presence, a, expected) => {
    expect(foldStatus(m, presence, a)).toBe(expected);
  });
  it('no manual and no activity is the presence status itself', () => {
    for (const p of P) expect(foldStatus(null, p, null)).toBe(p);
  });
});

describe('activities in the user rules (table)', () => {
  it.each<[string, UserEvent[], EffectiveStatus, ActivityType | null]>([
    ['Presenting → DoNotDisturb', [hb(T), act('Presenting')], 'DoNotDisturb', 'Presenting'],
    ['Focusing → DoNotDisturb', [hb(T), act('Focusing', { source: 'manual' })], 'DoNotDisturb', 'Focusing'],
    ['In a call → Busy', [hb(T), act('InACall', { source: 'callSystem' })], 'Busy', 'InACall'],
    ['In a meeting → Busy', [hb(T), act('InAMeeting')], 'Busy', 'InAMeeting'],
    ['Custom text + emoji: shown, status untouched', [hb(T), act('Custom', { source: 'manual', customText: 'lunch', emoji: '🥪' })], 'Online', 'Custom'],
    ['meeting and call: the call ends (its source cleared), the meeting holds', [hb(T), act('InAMeeting'), act('InACall', { source: 'callSystem', at: T + 1 }), act(null, { source: 'callSystem', at: T + 2 })], 'Busy', 'InAMeeting'],
    ['meeting (Busy) and manual Focusing (DoNotDisturb): the stronger wins', [hb(T), act('InAMeeting'), act('Focusing', { source: 'manual', at: T + 1 })], 'DoNotDisturb', 'Focusing'],
    ['manual Busy beats Presenting', [hb(T), act('Presenting'), manual('Busy', T + 1)], 'Busy', 'Presenting'],
    ['Available is no override: the activity folds', [hb(T), manual('Available', T + 1), act('InACall', { source: 'callSystem' })], 'Busy', 'InACall'],
    ['no live session: Offline, the activity still listed', [act('InAMeeting')], 'Offline', 'InAMeeting'],
    ['a cleared source shows nothing', [hb(T), act('Presenting'), act(null, { at: T + 1 })], 'Online', null],
    ['an older write to the same source loses', [hb(T), act(null, { at: T + 5 }), act('Presenting', { at: T + 1 })], 'Online', null],
  ])('%s', (_name, es, status, current) => {
    const s = fold(es);
    const now = T + 10;
    expect(effectiveStatus(s, now, cfg)).toBe(status);
    const v = userView(s, now, cfg);
    expect(v.activities?.[0]?.activity ?? null).toBe(current);
    expect(effectiveStatusOfView(v, now, cfg)).toBe(status);
  });

  it('expiry is by the clock: nextDeadline names it, tick records the change at its instant, the reader agrees', () => {
    let s = applyEvent(applyEvent(initialUserState(U), hb(T), T, cfg), act('Presenting', { expiresAt: T + 10_000 }), T, cfg);
    expect(s.status).toBe('DoNotDisturb');
    expect(nextDeadline(s, T + 1, cfg)).toBe(T + 10_000);
    const emitted = userView(s, T + 1, cfg);
    s = tick(s, T + 12_000, cfg);
    expect(s.status).toBe('Online');
    expect(s.statusSince).toBe(T + 10_000);
    const read = readView(emitted, T + 12_000, cfg, 'others');
    expect(read.status).toBe('Online');
    expect(read.statusSince).toBe(T + 10_000);
    expect(read.activities).toBeUndefined();
    expect(userView(s, T + 12_000, cfg).activities).toBeUndefined();
  });

  it('precedence between activities of equal effect: type order, then the later setAt', () => {
    const s = fold([act('InAMeeting', { at: T + 5 }), act('InACall', { source: 'callSystem', at: T })]);
    expect(currentActivity(s.activities, T + 10)?.activity).toBe('InACall');
    expect(activityEffect(s.activities, T + 10)).toBe('Busy');
  });

  it('a hidden user (visibility nobody, AppearOffline) shows others no activity; the user sees their own', () => {
    const s = fold([hb(T), act('InAMeeting', { customText: 'board meeting' }), manual('AppearOffline', T + 1)]);
    const v = userView(s, T + 2, cfg);
    expect(readView(v, T + 2, cfg, 'others').activities).toBeUndefined();
    expect(readView(v, T + 2, cfg, 'self').activities?.[0]?.customText).toBe('board meeting');
  });

  it('replays and duplicates change nothing (the register returns the state itself)', () => {
    const e = act('Presenting');
    const once = evolve(initialUserState(U), e, cfg);
    expect(evolve(once, e, cfg)).toBe(once);
  });
});

describe('activity hygiene', () => {
  const ok = { type: 'activity', userId: U, source: 'calendar', activity: 'InAMeeting', customText: ' Design review ', emoji: '📅', expiresAt: T + 60_000, setAt: T, eventId: 'e1' };
  it('accepts and normalises a good one', () => {
    const c = checkUserEvent(ok, T, cfg);
    expect(c).toEqual({ ok: true, event: { ...ok, customText: 'Design review' } });
  });
  it('a clear (activity null) drops text, emoji and expiry', () => {
    expect(checkUserEvent({ ...ok, activity: null }, T, cfg)).toEqual({ ok: true, event: { ...ok, activity: null, customText: null, emoji: null, expiresAt: null } });
  });
  it.each<[string, Record<string, unknown>, string, string]>([
    ['unknown activity', { activity: 'Sleeping' }, 'not-allowed', 'activity'],
    ['unknown source', { source: 'crm' }, 'not-allowed', 'source'],
    ['missing source', { source: undefined }, 'missing', 'source'],
    ['oversize text', { customText: 'x'.repeat(101) }, 'too-long', 'customText'],
    ['oversize emoji', { emoji: '😀'.repeat(17) }, 'too-long', 'emoji'],
    ['emoji with spaces', { emoji: 'a b' }, 'invalid-character', 'emoji'],
    ['expiry before setAt', { expiresAt: T - 1 }, 'invalid-range', 'expiresAt'],
    ['expiry in the past (after setAt, before now)', { setAt: T - 10_000, expiresAt: T - 5_000 }, 'invalid-range', 'expiresAt'],
    ['Custom without text or emoji', { activity: 'Custom', customText: null, emoji: null }, 'missing', 'customText'],
    ['bad actor kind', { actor: { kind: 'robot', id: 'x' } }, 'not-allowed', 'actor.kind'],
  ])('%s is refused naming the field', (_name, patch, code, field) => {
    const c = checkUserEvent({ ...ok, ...patch }, T, cfg);
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.rejection).toMatchObject({ code, field });
  });
});
