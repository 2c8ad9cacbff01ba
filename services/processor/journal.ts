/**
 * The processor's journal (presence.processor-journal.v1): one record per step a task takes, in the
 * order it takes them, with the clock reading it took it at. A task is a pure function of its input
 * records and of these steps (PresenceTask and the core hold no clock), so replaying the retained
 * inputs through the journal (rebuild.ts) gives the live run's transitions and snapshots exactly,
 * whatever the wall clock, the batch boundaries or the interleaving of the three input topics were.
 *
 * - batch: the records [fromOffset, nextOffset) of one input partition were applied at `at`, then
 *   (unless a catching-up task deferred it) the task flushed at `at`;
 * - tick: gateway lease expiries were applied, the timers due at `at` fired and the task flushed at
 *   `at` (only ticks that flushed are journaled: any other tick changed nothing).
 *
 * Key: the partition number as a decimal string, written with that explicit partition (as the
 * watermark), so a task's steps are one ordered log.
 */
import type { LeaseExpiry, ProcessorJournalEntry } from '../contract/avro-types';
import type { AvroSerde } from '../contract/serde';
import type { TopicRole } from '../contract/topics';
import type { OutRecord } from './record-collector';

export const JOURNALED_INPUTS = ['heartbeat', 'override', 'room'] as const satisfies readonly TopicRole[];
export type JournaledInput = (typeof JOURNALED_INPUTS)[number];

export function batchStep(partition: number, input: JournaledInput, fromOffset: string, nextOffset: string, at: number, flushed: boolean): ProcessorJournalEntry {
  return { partition, step: 'batch', at, input, fromOffset: Number(fromOffset), nextOffset: Number(nextOffset), flushed, leaseExpiries: [] };
}

export function tickStep(partition: number, at: number, leaseExpiries: readonly LeaseExpiry[] = []): ProcessorJournalEntry {
  return { partition, step: 'tick', at, input: null, fromOffset: null, nextOffset: null, flushed: true, leaseExpiries: [...leaseExpiries] };
}

/** The record to send to topicName('journal', prefix). */
export function journalRecord(serde: AvroSerde, topic: string, entry: ProcessorJournalEntry): OutRecord {
  return { topic, key: String(entry.partition), value: serde.encodeSync('journal', entry), partition: entry.partition };
}

export class JournalRecordError extends Error {
  readonly code = 'bad-journal-entry';
}

/** A decoded step, one of the two shapes. */
export type JournalStepOf =
  | { readonly step: 'batch'; readonly at: number; readonly input: JournaledInput; readonly fromOffset: bigint; readonly nextOffset: bigint; readonly flushed: boolean }
  | { readonly step: 'tick'; readonly at: number; readonly leaseExpiries: readonly LeaseExpiry[] };

/** Checks a decoded entry against where it was read (its partition) and its own shape. */
export function journalStepOf(value: ProcessorJournalEntry, kafkaPartition: number, offset: string): JournalStepOf {
  const where = `journal partition ${kafkaPartition} offset ${offset}`;
  if (value.partition !== kafkaPartition) throw new JournalRecordError(`${where}: an entry of partition ${value.partition}`);
  if (value.step === 'tick') return { step: 'tick', at: value.at, leaseExpiries: value.leaseExpiries };
  const input = JOURNALED_INPUTS.find((r) => r === value.input);
  if (input === undefined) throw new JournalRecordError(`${where}: batch of unknown input ${JSON.stringify(value.input)}`);
  if (value.fromOffset === null || value.nextOffset === null || value.nextOffset <= value.fromOffset) {
    throw new JournalRecordError(`${where}: batch without a range (${value.fromOffset}..${value.nextOffset})`);
  }
  return { step: 'batch', at: value.at, input, fromOffset: BigInt(value.fromOffset), nextOffset: BigInt(value.nextOffset), flushed: value.flushed };
}
