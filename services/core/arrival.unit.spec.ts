import { validateAdaptiveConfig, type AdaptiveRuleConfig } from './adaptive-config';
import {
  adaptiveOfflineAfter,
  adaptiveOfflineDeadline,
  arrivalEstimate,
  mergeArrivals,
  normalTailQuantile,
  phi,
  recordArrival,
  sessionOfflineAt,
} from './arrival';
import { DEFAULT_CONFIG } from './config';

function cfgOf(o: Record<string, unknown>): AdaptiveRuleConfig {
  const r = validateAdaptiveConfig(o, DEFAULT_CONFIG);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}
const ON = cfgOf({ enabled: true });
const WIDE = cfgOf({ enabled: true, maxOfflineAfterMs: 90_000 });
const beats = (start: number, gaps: readonly number[]): number[] => {
  const out = [start];
  for (const g of gaps) out.push((out[out.length - 1] as number) + g);
  return out;
};

describe('arrival history', () => {
  it('keeps the newest k distinct instants, sorted', () => {
    let h: readonly number[] = [];
    for (const t of [5, 1, 3, 3, 9, 7, 2]) h = recordArrival(h, t, 4);
    expect(h).toEqual([3, 5, 7, 9]);
  });
  it('returns the history itself for a duplicate or an instant older than a full history', () => {
    const h = [10, 20, 30];
    expect(recordArrival(h, 20, 3)).toBe(h);
    expect(recordArrival(h, 5, 3)).toBe(h);
    expect(recordArrival(h, 5, 4)).toEqual([5, 10, 20, 30]);
  });
  it('merges as union then newest k', () => {
    expect(mergeArrivals([1, 4, 6], [2, 4, 8], 4)).toEqual([2, 4, 6, 8]);
    const a = [1, 2];
    expect(mergeArrivals(a, [1], 4)).toBe(a);
    expect(mergeArrivals([], [], 4)).toEqual([]);
  });
});

describe('arrivalEstimate', () => {
  it('is null with fewer than two instants', () => {
    expect(arrivalEstimate([], 45_000)).toBeNull();
    expect(arrivalEstimate([1], 45_000)).toBeNull();
  });
  it('gives the mean and sample standard deviation of the gaps', () => {
    expect(arrivalEstimate(beats(0, [10, 20]), 1e9)).toEqual({ samples: 2, meanMs: 15, stdDevMs: Math.sqrt(50) });
    expect(arrivalEstimate(beats(0, [15_000]), 1e9)).toEqual({ samples: 1, meanMs: 15_000, stdDevMs: 0 });
  });
  it('forgets what came before a gap of the cap or more (the session was offline: another link)', () => {
    expect(arrivalEstimate(beats(0, [10_000, 10_000, 600_000, 2_000, 4_000]), 45_000)).toEqual({ samples: 2, meanMs: 3_000, stdDevMs: Math.sqrt(2 * 1_000 ** 2) });
    expect(arrivalEstimate(beats(0, [10_000, 45_000]), 45_000)).toBeNull();
    expect(arrivalEstimate(beats(0, [10_000, 44_999]), 45_000)).toEqual({ samples: 2, meanMs: 27_499.5, stdDevMs: Math.sqrt(2 * 17_499.5 ** 2) });
  });
});

describe('normalTailQuantile and phi', () => {
  it.each([
    [1, 1.2815516],
    [2, 2.3263479],
    [3, 3.0902323],
    [8, 5.6120012],
  ])('phi %d → z %f', (p, z) => {
    expect(normalTailQuantile(p)).toBeCloseTo(z, 5);
  });
  it('phi at the deadline is the threshold', () => {
    const est = { samples: 10, meanMs: 20_000, stdDevMs: 5_000 };
    for (const level of [1, 3, 8]) {
      const after = 20_000 + normalTailQuantile(level) * 5_000;
      expect(phi(est, after, ON)).toBeCloseTo(level, 4);
    }
    expect(phi(est, 20_000, ON)).toBeCloseTo(Math.log10(2), 6);
  });
});

describe('adaptiveOfflineAfter', () => {
  it('uses the fixed offlineAfterMs without enough samples', () => {
    expect(adaptiveOfflineAfter(null, ON)).toBe(45_000);
    expect(adaptiveOfflineAfter(arrivalEstimate(beats(0, [15_000, 15_000, 15_000]), 45_000), ON)).toBe(45_000);
  });
  it('gives a regular desktop link the minimum', () => {
    const est = arrivalEstimate(beats(0, Array(15).fill(15_000)), 45_000);
    // 15 s + 5.61 × the 1 s floor = 20.6 s
    expect(adaptiveOfflineAfter(est, ON)).toBe(Math.ceil(15_000 + normalTailQuantile(8) * 1_000));
    expect(adaptiveOfflineAfter(est, cfgOf({ enabled: true, phiThreshold: 3 }))).toBe(20_000);
  });
  it('gives a jittery link more, up to the maximum', () => {
    const est = arrivalEstimate(beats(0, [15_000, 30_000, 15_000, 40_000, 20_000, 15_000]), 90_000);
    expect(adaptiveOfflineAfter(est, ON)).toBe(45_000);
    const wide = adaptiveOfflineAfter(est, WIDE);
    expect(wide).toBeGreaterThan(45_000);
    expect(wide).toBeLessThanOrEqual(90_000);
  });
  it('the deadline is lastSeen + the duration', () => {
    const est = arrivalEstimate(beats(1_000, Array(15).fill(15_000)), 45_000);
    expect(adaptiveOfflineDeadline(est, 7_777, ON)).toBe(7_777 + adaptiveOfflineAfter(est, ON));
  });
});

describe('sessionOfflineAt', () => {
  const arrivals = beats(0, Array(15).fill(15_000));
  const last = arrivals[arrivals.length - 1] as number;
  it('is null for a session that never heart-beat or ended after its last heartbeat', () => {
    expect(sessionOfflineAt({ lastSeen: null, endedAt: 5, arrivals: [] }, ON)).toBeNull();
    expect(sessionOfflineAt({ lastSeen: last, endedAt: last, arrivals }, ON)).toBeNull();
    expect(sessionOfflineAt({ lastSeen: last, endedAt: last + 1, arrivals }, ON)).toBeNull();
  });
  it('is lastSeen + offlineAfterMs when adaptive detection is off (the default)', () => {
    const off = cfgOf({});
    expect(sessionOfflineAt({ lastSeen: last, endedAt: null, arrivals }, off)).toBe(last + 45_000);
  });
  it('is the adaptive deadline when on, also for a session reopened after a disconnect', () => {
    const want = last + Math.ceil(15_000 + normalTailQuantile(8) * 1_000);
    expect(sessionOfflineAt({ lastSeen: last, endedAt: null, arrivals }, ON)).toBe(want);
    expect(sessionOfflineAt({ lastSeen: last, endedAt: last - 1, arrivals }, ON)).toBe(want);
  });
  it('falls back to the fixed rule for a session without a history', () => {
    expect(sessionOfflineAt({ lastSeen: 100, endedAt: null }, ON)).toBe(45_100);
  });
});
