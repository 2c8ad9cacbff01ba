import { DEFAULT_CONFIG, type EffectiveStatus, type Visibility } from '../core';
import {
  hiddenSpans, history, membersAt, normalise, statusAt, totalsPerDay,
  type Audience, type Interval, type RoomChangeRecord, type StatusChange,
} from './timeline';

const H = 3_600_000;
const DAY = 24 * H;
const D0 = Date.UTC(2026, 11, 1); // 2026-12-01T00:00Z
const ch = (at: number, from: EffectiveStatus, to: EffectiveStatus, cause: string, version: number): StatusChange => ({ at, from, to, cause, version });

// The scripted day: online at 09:00, away at 12:00 by the clock, back at 13:00, DND 15:00-16:00, offline at 18:00.
const day: StatusChange[] = [
  ch(D0 + 9 * H, 'Offline', 'Online', 'event', 1),
  ch(D0 + 12 * H, 'Online', 'Away', 'clock', 2),
  ch(D0 + 13 * H, 'Away', 'Online', 'event', 3),
  ch(D0 + 15 * H, 'Online', 'DoNotDisturb', 'event', 4),
  ch(D0 + 16 * H, 'DoNotDisturb', 'Online', 'clock', 5),
  ch(D0 + 18 * H, 'Online', 'Offline', 'clock', 6),
];
const now = D0 + 2 * DAY;
const iv = (status: EffectiveStatus, from: number, to: number, cause: string | null): Interval => ({ status, from, to, cause });
const others = (current: Audience['current'], marks: Audience['marks'] = []): Audience => ({ viewer: 'others', current, marks });

describe('history', () => {
  it.each<[string, StatusChange[], { from: number; to: number }, number, Interval[]]>([
    ['the whole day, exact intervals and causes', day, { from: D0, to: D0 + DAY }, now, [
      iv('Offline', D0, D0 + 9 * H, null),
      iv('Online', D0 + 9 * H, D0 + 12 * H, 'event'),
      iv('Away', D0 + 12 * H, D0 + 13 * H, 'clock'),
      iv('Online', D0 + 13 * H, D0 + 15 * H, 'event'),
      iv('DoNotDisturb', D0 + 15 * H, D0 + 16 * H, 'event'),
      iv('Online', D0 + 16 * H, D0 + 18 * H, 'clock'),
      iv('Offline', D0 + 18 * H, D0 + DAY, 'clock'),
    ]],
    ['clipped on both sides', day, { from: D0 + 10 * H, to: D0 + 14 * H }, now, [
      iv('Online', D0 + 10 * H, D0 + 12 * H, 'event'),
      iv('Away', D0 + 12 * H, D0 + 13 * H, 'clock'),
      iv('Online', D0 + 13 * H, D0 + 14 * H, 'event'),
    ]],
    ['inside one interval', day, { from: D0 + 10 * H, to: D0 + 11 * H }, now, [iv('Online', D0 + 10 * H, D0 + 11 * H, 'event')]],
    ['a boundary is exclusive at the end', day, { from: D0 + 11 * H, to: D0 + 12 * H }, now, [iv('Online', D0 + 11 * H, D0 + 12 * H, 'event')]],
    ['clipped to now: nothing after it is known', day, { from: D0 + 17 * H, to: D0 + DAY }, D0 + 17 * H + 5, [iv('Online', D0 + 17 * H, D0 + 17 * H + 5, 'clock')]],
    ['empty window', day, { from: D0 + 10 * H, to: D0 + 10 * H }, now, []],
    ['reversed window', day, { from: D0 + 11 * H, to: D0 + 10 * H }, now, []],
    ['window in the future', day, { from: now + 1, to: now + H }, now, []],
    ['unknown user: Offline, no cause', [], { from: D0, to: D0 + H }, now, [iv('Offline', D0, D0 + H, null)]],
    ['before the first recorded change: its from status', [ch(D0 + 2 * H, 'Away', 'Offline', 'clock', 9)], { from: D0, to: D0 + 3 * H }, now, [
      iv('Away', D0, D0 + 2 * H, null), iv('Offline', D0 + 2 * H, D0 + 3 * H, 'clock'),
    ]],
    ['duplicates and disorder', [...day].reverse().concat(day.slice(0, 2)), { from: D0 + 11 * H, to: D0 + 14 * H }, now, [
      iv('Online', D0 + 11 * H, D0 + 12 * H, 'event'), iv('Away', D0 + 12 * H, D0 + 13 * H, 'clock'), iv('Online', D0 + 13 * H, D0 + 14 * H, 'event'),
    ]],
  ])('%s', (_name, changes, window, at, expected) => {
    expect(history(changes, window, at)).toEqual(expected);
  });

  it.each<[string, Audience, Interval[]]>([
    ['self sees everything', { viewer: 'self', current: 'nobody', marks: [] }, history(day, { from: D0 + 8 * H, to: D0 + 14 * H }, now)],
    ['others, visible now and always', others('everyone'), history(day, { from: D0 + 8 * H, to: D0 + 14 * H }, now)],
    ['others, invisible now: Offline throughout', others('nobody'), [iv('Offline', D0 + 8 * H, D0 + 14 * H, null)]],
    ['others, invisible 10:00-13:30 then visible', others('everyone', [
      { at: D0, visibility: 'everyone' }, { at: D0 + 10 * H, visibility: 'nobody' }, { at: D0 + 13.5 * H, visibility: 'everyone' },
    ]), [
      iv('Offline', D0 + 8 * H, D0 + 9 * H, null), iv('Online', D0 + 9 * H, D0 + 10 * H, 'event'),
      iv('Offline', D0 + 10 * H, D0 + 13.5 * H, null), iv('Online', D0 + 13.5 * H, D0 + 14 * H, 'event'),
    ]],
    ['others, first mark nobody: hidden before it too', others('everyone', [{ at: D0 + 11 * H, visibility: 'nobody' }, { at: D0 + 13.5 * H, visibility: 'everyone' }]), [
      iv('Offline', D0 + 8 * H, D0 + 13.5 * H, null), iv('Online', D0 + 13.5 * H, D0 + 14 * H, 'event'),
    ]],
    ['others, unknown user', others(null), history(day, { from: D0 + 8 * H, to: D0 + 14 * H }, now)],
  ])('visibility: %s', (_name, audience, expected) => {
    expect(history(day, { from: D0 + 8 * H, to: D0 + 14 * H }, now, audience)).toEqual(expected);
  });

  it.each<[string, Audience['viewer'], Visibility, Array<{ from: number; to: number }>]>([
    ['a contact, contacts now: the nobody period only', 'contact', 'contacts', [{ from: 10, to: 20 }]],
    ['a non-contact, contacts now: everything', 'others', 'contacts', [{ from: -Infinity, to: Infinity }]],
    ['a non-contact, everyone now: the contacts and nobody periods', 'others', 'everyone', [{ from: 10, to: 30 }]],
    ['a contact, nobody now: everything', 'contact', 'nobody', [{ from: -Infinity, to: Infinity }]],
    ['self: nothing', 'self', 'contacts', []],
  ])('hiddenSpans with contacts-only periods, %s', (_name, viewer, current, spans) => {
    const marks = [{ at: 5, visibility: 'everyone' as const }, { at: 10, visibility: 'nobody' as const }, { at: 20, visibility: 'contacts' as const }, { at: 30, visibility: current }];
    expect(hiddenSpans({ viewer, current, marks })).toEqual(spans);
  });

  it('hiddenSpans merges consecutive nobody marks', () => {
    expect(hiddenSpans(others('everyone', [{ at: 5, visibility: 'everyone' }, { at: 10, visibility: 'nobody' }, { at: 20, visibility: 'nobody' }, { at: 30, visibility: 'everyone' }])))
      .toEqual([{ from: 10, to: 30 }]);
  });

  it('normalise sorts by time and drops duplicate versions', () => {
    expect(normalise([day[2] as StatusChange, day[0] as StatusChange, day[2] as StatusChange]).map((c) => c.version)).toEqual([1, 3]);
  });
});

describe('statusAt', () => {
  it.each<[string, StatusChange[], number, Audience | undefined, ReturnType<typeof statusAt>]>([
    ['inside an interval', day, D0 + 12.5 * H, undefined, { status: 'Away', since: D0 + 12 * H, until: D0 + 13 * H, cause: 'clock' }],
    ['at a change: the new status', day, D0 + 15 * H, undefined, { status: 'DoNotDisturb', since: D0 + 15 * H, until: D0 + 16 * H, cause: 'event' }],
    ['the last, ongoing interval', day, D0 + 20 * H, undefined, { status: 'Offline', since: D0 + 18 * H, until: null, cause: 'clock' }],
    ['before the first change', day, D0 + H, undefined, { status: 'Offline', since: null, until: D0 + 9 * H, cause: null }],
    ['unknown user', [], D0, undefined, { status: 'Offline', since: null, until: null, cause: null }],
    ['hidden from others', day, D0 + 10 * H, others('nobody'), { status: 'Offline', since: null, until: null, cause: null }],
  ])('%s', (_name, changes, t, audience, expected) => {
    expect(statusAt(changes, t, now, audience)).toEqual(expected);
  });
});

describe('totalsPerDay', () => {
  const zero = { Online: 0, Away: 0, Busy: 0, DoNotDisturb: 0, Offline: 0 };
  it.each<[string, Interval[], { from: number; to: number }, ReturnType<typeof totalsPerDay>]>([
    ['the scripted day', history(day, { from: D0, to: D0 + DAY }, now), { from: D0, to: D0 + DAY }, [
      { day: '2026-12-01', ms: { ...zero, Online: 7 * H, Away: H, DoNotDisturb: H, Offline: 15 * H } },
    ]],
    ['an interval across midnight is split', [iv('Online', D0 + 22 * H, D0 + DAY + 2 * H, 'event')], { from: D0, to: D0 + 2 * DAY }, [
      { day: '2026-12-01', ms: { ...zero, Online: 2 * H } }, { day: '2026-12-02', ms: { ...zero, Online: 2 * H } },
    ]],
    ['a partial day counts only what the window holds', [iv('Away', D0 + 6 * H, D0 + 7 * H, 'clock')], { from: D0 + 6 * H, to: D0 + 7 * H }, [
      { day: '2026-12-01', ms: { ...zero, Away: H } },
    ]],
    ['empty window', [], { from: D0, to: D0 }, []],
    ['days without intervals are zero', [], { from: D0, to: D0 + DAY + 1 }, [{ day: '2026-12-01', ms: zero }, { day: '2026-12-02', ms: zero }]],
  ])('%s', (_name, intervals, window, expected) => {
    expect(totalsPerDay(intervals, window)).toEqual(expected);
  });
});

describe('membersAt', () => {
  const cfg = DEFAULT_CONFIG;
  const m = (userId: string, joinedAt: number, lastSeen: number) => ({ userId, sessionId: `${userId}-s`, joinedAt, lastSeen, metadata: {} });
  const rc = (at: number, version: number, members: RoomChangeRecord['members']): RoomChangeRecord => ({ roomKind: 'doc', roomId: '42', members, version, at });
  const changes = [rc(1_000, 1, [m('ann', 1_000, 1_000)]), rc(5_000, 2, [m('ann', 1_000, 5_000), m('bob', 5_000, 5_000)]), rc(9_000, 3, [])];
  it.each<[string, number, string[]]>([
    ['before the room existed', 999, []],
    ['at the first change', 1_000, ['ann']],
    ['between changes', 4_000, ['ann']],
    ['after the second', 6_000, ['ann', 'bob']],
    ['after the room emptied', 9_000, []],
  ])('%s', (_name, t, users) => {
    expect(membersAt([...changes].reverse(), t, cfg).map((x) => x.userId)).toEqual(users);
  });
  it('a member whose lease ran out by t is gone, as the query service would read it', () => {
    expect(membersAt([rc(1_000, 1, [m('ann', 1_000, 1_000)])], 1_000 + cfg.roomMemberExpiryMs, cfg)).toEqual([]);
  });
  it('ties at one instant: the highest version wins', () => {
    expect(membersAt([rc(1_000, 2, []), rc(1_000, 1, [m('ann', 1_000, 1_000)])], 1_000, cfg)).toEqual([]);
  });
});
