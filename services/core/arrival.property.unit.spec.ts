import fc from 'fast-check';
import { validateAdaptiveConfig, type AdaptiveRuleConfig } from './adaptive-config';
import { adaptiveOfflineDeadline, arrivalEstimate, mergeArrivals, recordArrival, sessionOfflineAt, type ArrivalHistory } from './arrival';
import { DEFAULT_CONFIG } from './config';

const instants = fc.array(fc.integer({ min: 0, max: 2_000_000 }), { maxLength: 60 });
// Mostly heartbeat-like sequences (gaps of 0–120 s), so the estimate is exercised where it matters.
const beatTimes = fc
  .array(fc.integer({ min: 0, max: 120_000 }), { maxLength: 40 })
  .map((gaps) => gaps.reduce<number[]>((acc, g) => [...acc, (acc[acc.length - 1] ?? 1_000_000) + g], []));
const k = fc.integer({ min: 3, max: 20 });

function record(ts: readonly number[], size: number, from: ArrivalHistory = []): ArrivalHistory {
  return ts.reduce((h, t) => recordArrival(h, t, size), from);
}
function newestDistinct(ts: readonly number[], size: number): number[] {
  return [...new Set(ts)].sort((a, b) => a - b).slice(-size);
}

const ruleCfg: fc.Arbitrary<AdaptiveRuleConfig> = fc
  .record({
    phiThreshold: fc.double({ min: 0.1, max: 16, noNaN: true }),
    minOfflineAfterMs: fc.integer({ min: 15_001, max: 45_000 }),
    maxOfflineAfterMs: fc.integer({ min: 45_000, max: 300_000 }),
    minStdDevMs: fc.integer({ min: 1, max: 10_000 }),
    historySize: fc.integer({ min: 3, max: 32 }),
  })
  .chain((o) => fc.record({ minSamples: fc.integer({ min: 1, max: o.historySize - 1 }) }).map((m) => ({ ...o, ...m, enabled: true })))
  .map((o) => {
    // Retention long enough for every generated history × maximum (the pruning rule of the config).
    const r = validateAdaptiveConfig(o, { ...DEFAULT_CONFIG, sessionRetentionMs: 24 * 3_600_000 });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return r.config;
  });

describe('arrival history laws', () => {
  it('is the newest k distinct instants whatever the order and duplicates', () => {
    fc.assert(
      fc.property(instants, k, fc.integer(), (ts, size, seed) => {
        const shuffled = fc.sample(fc.shuffledSubarray(ts, { minLength: ts.length, maxLength: ts.length }), { seed, numRuns: 1 })[0] as number[];
        const doubled = [...shuffled, ...ts.slice(0, seed & 7)];
        const h = record(ts, size);
        expect(h).toEqual(newestDistinct(ts, size));
        expect(record(doubled, size)).toEqual(h);
        expect(h.length).toBeLessThanOrEqual(size);
      }),
    );
  });
  it('merge is union-then-newest-k: commutative, associative, idempotent, and agrees with recording', () => {
    fc.assert(
      fc.property(instants, instants, instants, k, (a, b, c, size) => {
        const [ha, hb, hc] = [record(a, size), record(b, size), record(c, size)];
        expect(mergeArrivals(ha, hb, size)).toEqual(mergeArrivals(hb, ha, size));
        expect(mergeArrivals(mergeArrivals(ha, hb, size), hc, size)).toEqual(mergeArrivals(ha, mergeArrivals(hb, hc, size), size));
        expect(mergeArrivals(ha, ha, size)).toEqual(ha);
        expect(mergeArrivals(ha, hb, size)).toEqual(record([...a, ...b], size));
        expect(record(b, size, ha)).toEqual(record([...a, ...b], size));
      }),
    );
  });
  it('the estimate (and so the deadline) is order- and duplicate-insensitive', () => {
    fc.assert(
      fc.property(beatTimes, ruleCfg, fc.integer(), (ts, cfg, seed) => {
        const rev = [...ts].reverse();
        const dup = [...ts, ...ts.filter((_, i) => (i + seed) % 3 === 0)];
        const h = record(ts, cfg.historySize);
        const e = arrivalEstimate(h, cfg.maxOfflineAfterMs);
        expect(arrivalEstimate(record(rev, cfg.historySize), cfg.maxOfflineAfterMs)).toEqual(e);
        expect(arrivalEstimate(record(dup, cfg.historySize), cfg.maxOfflineAfterMs)).toEqual(e);
        const last = h[h.length - 1] ?? null;
        const s = { lastSeen: last, endedAt: null, arrivals: h };
        expect(sessionOfflineAt({ ...s, arrivals: record(dup, cfg.historySize) }, cfg)).toBe(sessionOfflineAt(s, cfg));
        // Small: at most historySize integers; serialises to a short JSON array.
        expect(JSON.parse(JSON.stringify(h))).toEqual(h);
        expect(h.length).toBeLessThanOrEqual(cfg.historySize);
      }),
    );
  });
});

describe('the deadline', () => {
  it('is never earlier than lastSeen + minimum nor later than lastSeen + maximum (= offlineAfterMs by default)', () => {
    fc.assert(
      fc.property(beatTimes, ruleCfg, fc.boolean(), (ts, cfg0, fixedMax) => {
        const cfg = fixedMax ? { ...cfg0, maxOfflineAfterMs: cfg0.offlineAfterMs } : cfg0;
        const h = record(ts, cfg.historySize);
        const lastSeen = h[h.length - 1] ?? 0;
        const d = adaptiveOfflineDeadline(arrivalEstimate(h, cfg.maxOfflineAfterMs), lastSeen, cfg);
        expect(Number.isSafeInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(lastSeen + cfg.minOfflineAfterMs);
        expect(d).toBeLessThanOrEqual(lastSeen + cfg.maxOfflineAfterMs);
        if (fixedMax) expect(d).toBeLessThanOrEqual(lastSeen + DEFAULT_CONFIG.offlineAfterMs);
      }),
    );
  });
  it('is monotonic (non-decreasing) in the phi threshold', () => {
    fc.assert(
      fc.property(beatTimes, ruleCfg, fc.double({ min: 0.1, max: 16, noNaN: true }), fc.double({ min: 0.1, max: 16, noNaN: true }), (ts, cfg, p, q) => {
        const [lo, hi] = p <= q ? [p, q] : [q, p];
        const h = record(ts, cfg.historySize);
        const e = arrivalEstimate(h, cfg.maxOfflineAfterMs);
        const lastSeen = h[h.length - 1] ?? 0;
        expect(adaptiveOfflineDeadline(e, lastSeen, { ...cfg, phiThreshold: lo })).toBeLessThanOrEqual(
          adaptiveOfflineDeadline(e, lastSeen, { ...cfg, phiThreshold: hi }),
        );
      }),
    );
  });
  it('is the fixed rule when adaptive detection is off', () => {
    fc.assert(
      fc.property(beatTimes, ruleCfg, (ts, cfg) => {
        const h = record(ts, cfg.historySize);
        const lastSeen = h[h.length - 1] ?? null;
        const off = { ...cfg, enabled: false };
        expect(sessionOfflineAt({ lastSeen, endedAt: null, arrivals: h }, off)).toBe(lastSeen === null ? null : lastSeen + off.offlineAfterMs);
      }),
    );
  });
});
