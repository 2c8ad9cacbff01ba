import { defaultAdaptiveOfflineConfig, validateAdaptiveConfig } from './adaptive-config';
import { DEFAULT_CONFIG } from './config';

describe('validateAdaptiveConfig', () => {
  it('is off by default, and its maximum is the fixed offlineAfterMs (the worst case never gets worse)', () => {
    const r = validateAdaptiveConfig({}, DEFAULT_CONFIG);
    expect(r).toEqual({ ok: true, config: { offlineAfterMs: 45_000, ...defaultAdaptiveOfflineConfig(DEFAULT_CONFIG) } });
    expect(r.ok && [r.config.enabled, r.config.maxOfflineAfterMs, r.config.minOfflineAfterMs, r.config.phiThreshold]).toEqual([false, 45_000, 20_000, 8]);
  });
  it('follows an overridden offlineAfterMs for the maximum unless set', () => {
    const p = { ...DEFAULT_CONFIG, offlineAfterMs: 60_000 };
    const r = validateAdaptiveConfig({ enabled: true }, p);
    expect(r.ok && [r.config.offlineAfterMs, r.config.maxOfflineAfterMs]).toEqual([60_000, 60_000]);
    const s = validateAdaptiveConfig({ maxOfflineAfterMs: 90_000, phiThreshold: 2.5 }, p);
    expect(s.ok && [s.config.maxOfflineAfterMs, s.config.phiThreshold]).toEqual([90_000, 2.5]);
  });
  const cases: readonly [string, unknown, string][] = [
    ['not an object', 'x', '(root)'],
    ['an array', [], '(root)'],
    ['unknown field', { phi: 3 }, 'phi'],
    ['enabled not boolean', { enabled: 'yes' }, 'enabled'],
    ['phi zero', { phiThreshold: 0 }, 'phiThreshold'],
    ['phi NaN', { phiThreshold: NaN }, 'phiThreshold'],
    ['phi too large', { phiThreshold: 17 }, 'phiThreshold'],
    ['min not above heartbeat', { minOfflineAfterMs: 15_000 }, 'minOfflineAfterMs'],
    ['min above offlineAfterMs', { minOfflineAfterMs: 45_001 }, 'minOfflineAfterMs'],
    ['max below offlineAfterMs', { maxOfflineAfterMs: 44_999 }, 'maxOfflineAfterMs'],
    ['max above retention', { maxOfflineAfterMs: 3_600_001 }, 'maxOfflineAfterMs'],
    ['fractional max', { maxOfflineAfterMs: 50_000.5 }, 'maxOfflineAfterMs'],
    ['zero std floor', { minStdDevMs: 0 }, 'minStdDevMs'],
    ['history too small', { historySize: 2 }, 'historySize'],
    ['history too large', { historySize: 65 }, 'historySize'],
    ['zero samples', { minSamples: 0 }, 'minSamples'],
    ['samples not below history', { historySize: 4, minSamples: 4 }, 'minSamples'],
  ];
  it.each(cases)('rejects %s', (_name, input, field) => {
    const r = validateAdaptiveConfig(input, DEFAULT_CONFIG);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.issues.map((i) => i.field)).toContain(field);
  });
  it('lists every bad field', () => {
    const r = validateAdaptiveConfig({ enabled: 1, phiThreshold: -1, historySize: 70 }, DEFAULT_CONFIG);
    expect(!r.ok && r.issues.map((i) => i.field).sort()).toEqual(['enabled', 'historySize', 'phiThreshold']);
  });
});
