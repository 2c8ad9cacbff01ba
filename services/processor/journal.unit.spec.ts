import type { ProcessorJournalEntry } from '../contract/avro-types';
import { avroType } from '../contract/schemas';
import { TOPICS } from '../contract/topics';
import { batchStep, JournalRecordError, journalStepOf, tickStep } from './journal';

describe('journal entries', () => {
  it('is a retained topic keyed by partition, as long as the longest-retained input', () => {
    expect(TOPICS.journal).toMatchObject({ name: 'presence.processor-journal.v1', key: 'partition', valueSchema: 'presence.v1.ProcessorJournalEntry' });
    expect(TOPICS.journal.config).toEqual({ 'cleanup.policy': 'delete', 'retention.ms': TOPICS.override.config['retention.ms'] });
  });

  it.each<[string, ProcessorJournalEntry]>([
    ['a batch', batchStep(1, 'override', '41', '44', 1_700_000_000_000, true)],
    ['a deferred batch', batchStep(0, 'room', '0', '20001', 5, false)],
    ['a tick', tickStep(2, 7)],
    ['a tick with lease expiries', tickStep(2, 9, [{ gatewayId: 'gw-1', deadUpTo: 8 }])],
  ])('%s round-trips through the Avro schema', (_, entry) => {
    const type = avroType('presence.v1.ProcessorJournalEntry');
    expect(type.fromBuffer(type.toBuffer(entry))).toEqual(entry);
  });

  it.each<[string, ProcessorJournalEntry, number, unknown]>([
    ['a batch', batchStep(1, 'override', '41', '44', 10, true), 1, { step: 'batch', at: 10, input: 'override', fromOffset: 41n, nextOffset: 44n, flushed: true }],
    ['a tick', tickStep(3, 12, [{ gatewayId: 'g', deadUpTo: 11 }]), 3, { step: 'tick', at: 12, leaseExpiries: [{ gatewayId: 'g', deadUpTo: 11 }] }],
  ])('reads %s', (_, entry, partition, expected) => {
    expect(journalStepOf(entry, partition, '0')).toEqual(expected);
  });

  it.each<[string, ProcessorJournalEntry, number, RegExp]>([
    ['of another partition', tickStep(2, 1), 3, /an entry of partition 2/],
    ['of an unknown input', { ...batchStep(0, 'heartbeat', '0', '1', 1, true), input: 'snapshot' }, 0, /unknown input "snapshot"/],
    ['without a range', { ...batchStep(0, 'heartbeat', '0', '1', 1, true), nextOffset: null }, 0, /without a range/],
    ['with an empty range', batchStep(0, 'heartbeat', '5', '5', 1, true), 0, /without a range \(5\.\.5\)/],
  ])('refuses an entry %s', (_, entry, partition, message) => {
    expect(() => journalStepOf(entry, partition, '7')).toThrow(JournalRecordError);
    expect(() => journalStepOf(entry, partition, '7')).toThrow(message);
  });
});
