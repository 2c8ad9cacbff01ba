/**
 * The dead-letter record every consumer writes to presence.dlq.v1: where the record came from, why
 * it was refused, and its original bytes. The bytes are cut to MAX_DEAD_LETTER_BYTES each: a poison
 * record close to the broker's message.max.bytes would otherwise make a dead letter the broker
 * refuses, and the partition would stall on it. The reason says when bytes were cut.
 */
import type { DeadLetter } from './avro-types';

export const MAX_DEAD_LETTER_BYTES = 64 * 1024;

export interface SourceRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

export interface Refusal {
  /** A serde code (undecodable, unknown-schema, wrong-schema, unencodable) or `rejected`. */
  readonly code: string;
  readonly field: string | null;
  readonly reason: string;
}

export function deadLetterOf(source: SourceRecord, why: Refusal, service: string, failedAt: number): DeadLetter {
  const cut: string[] = [];
  const bytes = (name: string, b: Buffer | null): Buffer | null => {
    if (b === null) return null;
    if (b.length <= MAX_DEAD_LETTER_BYTES) return Buffer.from(b);
    cut.push(`${name} cut from ${b.length} to ${MAX_DEAD_LETTER_BYTES} bytes`);
    return Buffer.from(b.subarray(0, MAX_DEAD_LETTER_BYTES));
  };
  const key = bytes('key', source.key);
  const value = bytes('value', source.value);
  return {
    sourceTopic: source.topic, sourcePartition: source.partition, sourceOffset: Number(source.offset), key, value,
    errorCode: why.code, field: why.field, reason: cut.length ? `${why.reason} (${cut.join('; ')})` : why.reason, service, failedAt,
  };
}
