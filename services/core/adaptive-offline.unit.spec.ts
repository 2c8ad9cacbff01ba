// The adaptive offline rule wired into the user rules: deadlines, the snapshot's offlineAt, readers.
import { adaptiveOfflineAfter, arrivalEstimate, normalTailQuantile } from './arrival';
import { DEFAULT_CONFIG, validateConfig, type PresenceConfig } from './config';
import type { UserEvent } from './events';
import { effectiveStatus, effectiveStatusOfView, evolve, initialUserState, nextDeadline, nextSnapshotCheck, readView, tick, userView, type UserState } from './user';

function config(overrides: Record<string, unknown>): PresenceConfig {
  const r = validateConfig(overrides);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}
const FIXED = DEFAULT_CONFIG; // offline 45 s
const ADAPTIVE = config({ adaptiveOffline: { enabled: true } }); // phi 8, deadlines in [20 s, 45 s]
const ADAPTIVE_OFF = config({ adaptiveOffline: { enabled: false } });

const beat = (observedAt: number, sessionId = 's1'): UserEvent => ({ type: 'heartbeat', userId: 'u', deviceId: 'd1', sessionId, platform: 'web', observedAt, idleMs: 0 });
const beatsEvery = (gapMs: number, n: number, end: number, sessionId = 's1'): UserEvent[] =>
  Array.from({ length: n }, (_, i) => beat(end - (n - 1 - i) * gapMs, sessionId));
const fold = (es: readonly UserEvent[], cfg: PresenceConfig): UserState => es.reduce((s, e) => evolve(s, e, cfg), initialUserState('u'));

const T = 1_000_000;
const z8 = normalTailQuantile(8);

describe('the adaptive offline rule in the user rules', () => {
  // [name, events, how long after the last heartbeat the session goes offline]
  const cases: readonly [string, UserEvent[], number][] = [
    // 2 s beats: mean 2 s, sd floored at 1 s → 2 s + z(8)·1 s ≈ 7.6 s, raised to the 20 s minimum.
    ['steady 2 s beats: the minimum', beatsEvery(2_000, 10, T), 20_000],
    // 15 s beats: 15 s + 5.6 s.
    ['steady 15 s beats: mean + z·sd', beatsEvery(15_000, 10, T), Math.ceil(15_000 + z8 * 1_000)],
    // 40 s gaps: above the fixed maximum, clamped to it (the worst case never gets worse).
    ['40 s gaps: clamped to the fixed 45 s', beatsEvery(40_000, 10, T), 45_000],
    // Three beats = two gaps, below minSamples (4): the fixed rule.
    ['too few samples: the fixed rule', beatsEvery(15_000, 3, T), 45_000],
    // A silence of 45 s or more starts the window again: only the two beats after it count.
    ['a gap past the maximum forgets the earlier link', [...beatsEvery(2_000, 10, T - 120_000), ...beatsEvery(2_000, 3, T)], 45_000],
  ];
  it.each(cases)('%s', (_name, events, after) => {
    const s = fold(events, ADAPTIVE);
    const deadline = T + after;
    expect(effectiveStatus(s, deadline - 1, ADAPTIVE)).toBe('Online');
    expect(effectiveStatus(s, deadline, ADAPTIVE)).toBe('Offline');
    expect(nextDeadline(s, T, ADAPTIVE)).toBe(deadline);
    // The processor's timer fires late: the transition is still recorded at the deadline.
    const online = tick(s, T, ADAPTIVE);
    expect(online.status).toBe('Online');
    expect(tick(online, deadline + 5_000, ADAPTIVE)).toMatchObject({ status: 'Offline', statusSince: deadline });
    // The fixed rule on the same events: 45 s, whatever the history.
    expect(nextDeadline(fold(events, FIXED), T, FIXED)).toBe(T + 45_000);
  });

  it('agrees with arrival.ts on the estimate of the kept history', () => {
    const s = fold(beatsEvery(15_000, 30, T), ADAPTIVE);
    const arrivals = s.sessions[0]?.arrivals ?? [];
    expect(arrivals).toHaveLength(16);
    const a = ADAPTIVE.adaptiveOffline;
    if (a === undefined) throw new Error('adaptive config missing');
    expect(nextDeadline(s, T, ADAPTIVE)).toBe(T + adaptiveOfflineAfter(arrivalEstimate(arrivals, a.maxOfflineAfterMs), a));
  });

  it('keeps no arrival history while the rule is off (absent or enabled: false), so the state is unchanged', () => {
    for (const cfg of [FIXED, ADAPTIVE_OFF]) {
      const s = fold(beatsEvery(2_000, 10, T), cfg);
      expect(s.sessions[0]).not.toHaveProperty('arrivals');
      expect(userView(s, T, cfg)).not.toHaveProperty('offlineAt');
      expect(nextDeadline(s, T, cfg)).toBe(T + 45_000);
    }
  });

  it('a duplicate or replayed heartbeat changes nothing, a late one in the window does', () => {
    const s = fold(beatsEvery(2_000, 10, T), ADAPTIVE);
    expect(evolve(s, beat(T - 4_000), ADAPTIVE)).toBe(s);
    const late = evolve(s, beat(T - 1_000), ADAPTIVE);
    expect(late).not.toBe(s);
    expect(late.sessions[0]?.arrivals).toContain(T - 1_000);
  });

  it('the snapshot carries the deadline, so a reader without the rule agrees (and decays exactly then)', () => {
    const s = fold(beatsEvery(15_000, 10, T), ADAPTIVE);
    const view = userView(s, T, ADAPTIVE);
    const deadline = T + Math.ceil(15_000 + z8 * 1_000);
    expect(view.offlineAt).toBe(deadline);
    for (const reader of [ADAPTIVE, FIXED]) {
      expect(effectiveStatusOfView(view, deadline - 1, reader)).toBe('Online');
      expect(effectiveStatusOfView(view, deadline, reader)).toBe('Offline');
      expect(readView(view, deadline, reader, 'others')).toMatchObject({ status: 'Offline', statusSince: deadline, devices: [] });
    }
  });

  it('with two devices the user is live until the later deadline; the snapshot says so', () => {
    const s = fold([...beatsEvery(2_000, 10, T), ...beatsEvery(15_000, 10, T, 's2')], ADAPTIVE);
    const later = T + Math.ceil(15_000 + z8 * 1_000);
    expect(userView(s, T, ADAPTIVE).offlineAt).toBe(later);
    expect(userView(s, T + 20_000, ADAPTIVE).devices.map((d) => d.sessionId)).toEqual(['s2']);
    expect(effectiveStatus(s, later, ADAPTIVE)).toBe('Offline');
  });

  it('renews the snapshot lease only when the state outlives the emitted deadline', () => {
    const events = beatsEvery(15_000, 10, T);
    const emitted = userView(fold(events, ADAPTIVE), T, ADAPTIVE);
    const lead = ADAPTIVE.refreshLeadMs;
    // One more steady beat: the deadline moves 15 s on, past the emitted one → refresh before it runs out.
    expect(nextSnapshotCheck(emitted, fold([...events, beat(T + 15_000)], ADAPTIVE), ADAPTIVE)).toBe((emitted.offlineAt as number) - lead);
    // A replayed old beat: nothing newer, no refresh.
    expect(nextSnapshotCheck(emitted, fold([...events, beat(T - 15_000)], ADAPTIVE), ADAPTIVE)).toBeNull();
  });

  it('rejects a bad setting, naming it', () => {
    const r = validateConfig({ adaptiveOffline: { enabled: 'yes', minOfflineAfterMs: 10 } });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.issues.map((i) => i.field).sort()).toEqual(['adaptiveOffline.enabled', 'adaptiveOffline.minOfflineAfterMs']);
    const retention = validateConfig({ sessionRetentionMs: 600_000, adaptiveOffline: { enabled: true } });
    expect(!retention.ok && retention.issues.map((i) => i.field)).toEqual(['adaptiveOffline.historySize']);
  });
});
