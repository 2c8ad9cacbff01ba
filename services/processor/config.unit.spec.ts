import { loadProcessorConfig } from './config';

describe('processor config: group id', () => {
  it('defaults to one group per topic prefix, so two deployments never share a group', () => {
    expect(loadProcessorConfig({}).env.PROCESSOR_GROUP_ID).toBe('presence-processor');
    expect(loadProcessorConfig({ TOPIC_PREFIX: 'staging.' }).env.PROCESSOR_GROUP_ID).toBe('staging.presence-processor');
    expect(loadProcessorConfig({ TOPIC_PREFIX: 'a.' }).env.PROCESSOR_GROUP_ID).not.toBe(loadProcessorConfig({ TOPIC_PREFIX: 'b.' }).env.PROCESSOR_GROUP_ID);
  });
  it('PROCESSOR_GROUP_ID set explicitly wins', () => {
    expect(loadProcessorConfig({ TOPIC_PREFIX: 'a.', PROCESSOR_GROUP_ID: 'mine' }).env.PROCESSOR_GROUP_ID).toBe('mine');
  });
});

describe('processor config: the adaptive offline rule', () => {
  it('is off unless PRESENCE_ADAPTIVE_OFFLINE turns it on; its settings pass through the core', () => {
    expect(loadProcessorConfig({}).presence.adaptiveOffline).toBeUndefined();
    expect(loadProcessorConfig({ PRESENCE_ADAPTIVE_OFFLINE: '0' }).presence.adaptiveOffline?.enabled).toBe(false);
    const on = loadProcessorConfig({ PRESENCE_ADAPTIVE_OFFLINE: '1', PRESENCE_ADAPTIVE_PHI: '3', PRESENCE_ADAPTIVE_MIN_OFFLINE_AFTER_MS: '25000' }).presence.adaptiveOffline;
    expect(on).toMatchObject({ enabled: true, phiThreshold: 3, minOfflineAfterMs: 25_000, maxOfflineAfterMs: 45_000, historySize: 16 });
  });
  it('rejects a bad setting, naming the field', () => {
    expect(() => loadProcessorConfig({ PRESENCE_ADAPTIVE_OFFLINE: 'yes' })).toThrow(/PRESENCE_ADAPTIVE_OFFLINE/);
    expect(() => loadProcessorConfig({ PRESENCE_ADAPTIVE_OFFLINE: '1', PRESENCE_ADAPTIVE_MIN_OFFLINE_AFTER_MS: '1000' })).toThrow(/adaptiveOffline\.minOfflineAfterMs/);
  });
});

describe('processor config: the stream threads\' young generation', () => {
  it('defaults to V8\'s own (0), takes MiB, and rejects what is not a whole number of MiB, naming the field', () => {
    expect(loadProcessorConfig({}).env.PROCESSOR_YOUNG_GENERATION_MB).toBe(0);
    expect(loadProcessorConfig({ PROCESSOR_YOUNG_GENERATION_MB: '192' }).env.PROCESSOR_YOUNG_GENERATION_MB).toBe(192);
    expect(() => loadProcessorConfig({ PROCESSOR_YOUNG_GENERATION_MB: '-1' })).toThrow(/PROCESSOR_YOUNG_GENERATION_MB/);
    expect(() => loadProcessorConfig({ PROCESSOR_YOUNG_GENERATION_MB: 'big' })).toThrow(/PROCESSOR_YOUNG_GENERATION_MB/);
  });
});
