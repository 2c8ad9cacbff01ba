/**
 * The one mapping of presence.processor-watermark.v1 records: the processor writes them with
 * `watermarkMessage`, every reader (the snapshot replica) reads them with `watermarkFromRecord`.
 * Key: the partition number as a decimal string; written with that explicit partition, so the
 * watermark of input partition p sits in partition p; value: ProcessorWatermark.
 */
import type { Message } from 'kafkajs';
import type { ProcessorWatermark } from './avro-types';
import type { AvroSerde } from './serde';

/** The value of task `partition`'s watermark W, written at `now`. */
export function toWatermark(partition: number, watermark: number, now: number): ProcessorWatermark {
  return { partition, watermark, emittedAt: now };
}

/** The record to send to topicName('watermark', prefix): explicit partition, key "<partition>". */
export function watermarkMessage(serde: AvroSerde, partition: number, watermark: number, now: number): Message & { partition: number } {
  return { key: String(partition), partition, value: serde.encodeSync('watermark', toWatermark(partition, watermark, now)) };
}

export class WatermarkRecordError extends Error {
  readonly code = 'bad-watermark';
}

/**
 * A decoded watermark checked against where it was read: its partition must equal the record key
 * and the Kafka partition (a record elsewhere would claim currency for the wrong users).
 */
export function watermarkFromRecord(value: ProcessorWatermark, key: string, kafkaPartition: number): { partition: number; watermark: number } {
  if (String(value.partition) !== key || value.partition !== kafkaPartition) {
    throw new WatermarkRecordError(`watermark of partition ${value.partition} read with key ${JSON.stringify(key)} from partition ${kafkaPartition}`);
  }
  return { partition: value.partition, watermark: value.watermark };
}
