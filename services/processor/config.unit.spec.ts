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
