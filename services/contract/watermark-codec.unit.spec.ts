import { avroType } from './schemas';
import { toWatermark, watermarkFromRecord, WatermarkRecordError } from './watermark-codec';
import { TOPICS, SAME_PARTITION_COUNT, CO_PARTITIONED } from './topics';

describe('watermark records', () => {
  it('is a compacted topic keyed by partition, checked for the same partition count as the snapshots', () => {
    expect(TOPICS.watermark).toMatchObject({ name: 'presence.processor-watermark.v1', key: 'partition', valueSchema: 'presence.v1.ProcessorWatermark' });
    expect(TOPICS.watermark.config['cleanup.policy']).toBe('compact');
    expect(SAME_PARTITION_COUNT).toEqual([...CO_PARTITIONED, 'snapshot', 'roomSnapshot', 'watermark', 'journal']);
  });
  it('round-trips through the Avro schema', () => {
    const type = avroType('presence.v1.ProcessorWatermark');
    const v = toWatermark(3, 1_700_000_000_000, 1_700_000_000_020);
    expect(v).toEqual({ partition: 3, watermark: 1_700_000_000_000, emittedAt: 1_700_000_000_020 });
    expect(type.fromBuffer(type.toBuffer(v))).toEqual(v);
  });
  it('is read only where it belongs: key and Kafka partition equal its partition', () => {
    const v = toWatermark(3, 10, 11);
    expect(watermarkFromRecord(v, '3', 3)).toEqual({ partition: 3, watermark: 10 });
    expect(() => watermarkFromRecord(v, '03', 3)).toThrow(WatermarkRecordError);
    expect(() => watermarkFromRecord(v, '3', 2)).toThrow(WatermarkRecordError);
  });
});
