import { DEFAULT_CONFIG, formatConfigIssues, validateConfig } from './config';

describe('validateConfig', () => {
  it('gives the documented defaults', () => {
    const r = validateConfig();
    expect(r).toEqual({ ok: true, config: DEFAULT_CONFIG });
    expect(r.ok && r.config).toMatchObject({
      heartbeatIntervalMs: 15_000,
      offlineAfterMs: 45_000,
      awayAfterMs: 300_000,
      roomMemberExpiryMs: 60_000,
      refreshLeadMs: 15_000,
    });
  });
  it('merges overrides; refreshLeadMs follows an overridden heartbeat interval unless set', () => {
    const r = validateConfig({ heartbeatIntervalMs: 10_000, offlineAfterMs: 30_000 });
    expect(r.ok && [r.config.heartbeatIntervalMs, r.config.offlineAfterMs, r.config.refreshLeadMs]).toEqual([10_000, 30_000, 10_000]);
    const s = validateConfig({ heartbeatIntervalMs: 10_000, refreshLeadMs: 5_000 });
    expect(s.ok && s.config.refreshLeadMs).toBe(5_000);
  });

  const cases: readonly [string, unknown, string][] = [
    ['not an object', 'x', '(root)'],
    ['an array', [], '(root)'],
    ['unknown field (typo)', { offlineAfterMS: 1 }, 'offlineAfterMS'],
    ['negative', { maxClockSkewMs: -1 }, 'maxClockSkewMs'],
    ['fraction', { awayAfterMs: 1.5 }, 'awayAfterMs'],
    ['string', { maxIdLength: '128' }, 'maxIdLength'],
    ['NaN', { maxMetadataBytes: NaN }, 'maxMetadataBytes'],
    ['zero heartbeat', { heartbeatIntervalMs: 0, refreshLeadMs: 0 }, 'heartbeatIntervalMs'],
    ['offline not above heartbeat', { offlineAfterMs: 15_000 }, 'offlineAfterMs'],
    ['zero away', { awayAfterMs: 0 }, 'awayAfterMs'],
    ['room expiry not above heartbeat', { roomMemberExpiryMs: 15_000 }, 'roomMemberExpiryMs'],
    ['lead not below the thresholds', { refreshLeadMs: 45_000 }, 'refreshLeadMs'],
    ['zero id length', { maxIdLength: 0 }, 'maxIdLength'],
    ['zero sessions', { maxSessionsPerUser: 0 }, 'maxSessionsPerUser'],
    ['zero members', { maxMembersPerRoom: 0 }, 'maxMembersPerRoom'],
    ['retention below offline', { sessionRetentionMs: 44_999 }, 'sessionRetentionMs'],
    ['retention below room expiry', { sessionRetentionMs: 59_999 }, 'sessionRetentionMs'],
    ['max idle below away', { maxIdleMs: 299_999 }, 'maxIdleMs'],
  ];
  it.each(cases)('rejects %s, naming the field', (_name, input, field) => {
    const r = validateConfig(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.issues.map((i) => i.field)).toContain(field);
      expect(r.issues.every((i) => i.code === 'invalid-config')).toBe(true);
    }
  });
  it('lists every bad field at once', () => {
    const r = validateConfig({ awayAfterMs: -1, maxIdLength: 0, bogus: 1 });
    expect(r.ok ? [] : r.issues.map((i) => i.field).sort()).toEqual(['awayAfterMs', 'bogus', 'maxIdLength']);
    expect(r.ok ? '' : formatConfigIssues(r.issues)).toContain('maxIdLength: must be ≥ 1');
  });
});

describe('validateConfig: watermark settings', () => {
  it('defaults to per-user leases and a 5 s watermark grace', () => {
    const r = validateConfig();
    expect(r.ok && [r.config.snapshotLeases, r.config.watermarkGraceMs]).toEqual(['per-user', 5_000]);
    const w = validateConfig({ snapshotLeases: 'watermark', watermarkGraceMs: 0 });
    expect(w.ok && [w.config.snapshotLeases, w.config.watermarkGraceMs]).toEqual(['watermark', 0]);
  });
  it.each<[unknown, unknown, string]>([
    ['lease', undefined, 'snapshotLeases'],
    [1, undefined, 'snapshotLeases'],
    [undefined, -1, 'watermarkGraceMs'],
    [undefined, 1.5, 'watermarkGraceMs'],
  ])('rejects snapshotLeases %p / watermarkGraceMs %p', (snapshotLeases, watermarkGraceMs, field) => {
    const r = validateConfig(Object.fromEntries(Object.entries({ snapshotLeases, watermarkGraceMs }).filter(([, v]) => v !== undefined)));
    expect(r.ok ? [] : r.issues.map((i) => i.field)).toEqual([field]);
  });
});
