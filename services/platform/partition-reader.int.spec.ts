/**
 * The partition reader reads chosen partitions from chosen offsets without a consumer group: while
 * it runs no group on the broker has it as a member, and after it stops no group was left behind
 * for its topic; a kafkajs consumer (what the replicas and the restore use today) is shown to leave one.
 */
import { randomBytes } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { testKafka, uniquePrefix, waitFor, withAdmin } from '../../test/helpers';
import { PartitionReader, type PartitionBatch } from './partition-reader';

/** Groups on the broker that are new since `before` and touch `topic`: a member with `clientId`, or a committed offset on it. */
async function groupsTouching(admin: Admin, before: Set<string>, topic: string, clientId: string): Promise<string[]> {
  const fresh = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => !before.has(g));
  const found: string[] = [];
  for (const groupId of fresh) {
    const [described] = (await admin.describeGroups([groupId])).groups;
    const member = described?.members.some((m) => m.clientId === clientId) ?? false;
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = offsets.some((t) => t.partitions.some((p) => p.offset !== '-1'));
    if (member || committed) found.push(groupId);
  }
  return found;
}

async function produce(kafka: Kafka, topic: string, messages: Array<{ partition: number; value: string }>): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: messages.map((m) => ({ partition: m.partition, key: m.value, value: m.value })) });
  } finally {
    await producer.disconnect();
  }
}

describe('PartitionReader', () => {
  const prefix = uniquePrefix('reader');
  const topic = `${prefix}input`;
  const clientId = `reader-${randomBytes(3).toString('hex')}`;
  const kafka = testKafka(clientId);
  let before = new Set<string>();

  beforeAll(async () => {
    await withAdmin(async (admin) => {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] });
      before = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
    });
    await produce(kafka, topic, [0, 1, 2, 3, 4].map((i) => ({ partition: 0, value: `p0-${i}` })).concat([0, 1, 2].map((i) => ({ partition: 1, value: `p1-${i}` }))));
    // A committed and an aborted transaction on partition 2: read_committed sees only the first, and the end
    // (after a commit marker) is still reached.
    const tx = kafka.producer({ transactionalId: `${prefix}tx`, idempotent: true, maxInFlightRequests: 1 });
    await tx.connect();
    try {
      const ok = await tx.transaction();
      await ok.send({ topic, messages: [{ partition: 2, key: 'c', value: 'committed' }] });
      await ok.commit();
      const bad = await tx.transaction();
      await bad.send({ topic, messages: [{ partition: 2, key: 'a', value: 'aborted' }] });
      await bad.abort();
    } finally {
      await tx.disconnect();
    }
  });

  it('reads given partitions from given offsets to the end, committed records only, and ends at the end offsets', async () => {
    const reader = new PartitionReader({ kafka, partitions: [{ topic, partition: 0, from: 2n }, { topic, partition: 1, from: 'earliest' }, { topic, partition: 2, from: 'earliest' }] });
    const got: string[] = [];
    let caughtUp = false;
    await reader.run((b: PartitionBatch) => void got.push(...b.messages.map((m) => `${b.partition}@${m.offset}:${String(m.value)}`)), { until: 'end', onCaughtUp: () => (caughtUp = true) });
    await reader.stop();
    expect(caughtUp).toBe(true);
    expect(got.filter((s) => s.startsWith('0@'))).toEqual(['0@2:p0-2', '0@3:p0-3', '0@4:p0-4']);
    expect(got.filter((s) => s.startsWith('1@'))).toEqual(['1@0:p1-0', '1@1:p1-1', '1@2:p1-2']);
    expect(got.filter((s) => s.startsWith('2@'))).toEqual(['2@0:committed']);
    const pos = [...reader.positions().values()].map((p) => `${p.partition}:${p.offset}`);
    expect(pos).toEqual(['0:5', '1:3', '2:4']); // partition 2: record, marker, aborted record, marker
  });

  it('follows live until stopped, and leaves no consumer group behind (a kafkajs consumer does)', async () => {
    const reader = new PartitionReader({ kafka, partitions: [0, 1, 2].map((partition) => ({ topic, partition, from: 'latest' as const })) });
    const got: string[] = [];
    let caughtUp = false;
    const running = reader.run((b) => void got.push(...b.messages.map((m) => String(m.value))), { until: 'live', onCaughtUp: () => (caughtUp = true) });
    await waitFor(() => caughtUp, 'caught up');
    await produce(kafka, topic, [{ partition: 1, value: 'live-1' }, { partition: 0, value: 'live-0' }]);
    await waitFor(() => got.length >= 2, `two live records (got ${got.join(',')})`);
    expect(got.sort()).toEqual(['live-0', 'live-1']);
    await withAdmin(async (admin) => expect(await groupsTouching(admin, before, topic, clientId)).toEqual([])); // while it runs
    const t0 = Date.now();
    await reader.stop();
    await running;
    expect(Date.now() - t0).toBeLessThan(2_000);
    await withAdmin(async (admin) => expect(await groupsTouching(admin, before, topic, clientId)).toEqual([]));

    // Control: a kafkajs consumer reading the same topic leaves its group, and the check sees it.
    const groupId = `${prefix}consumer-${randomBytes(3).toString('hex')}`;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    await consumer.connect();
    const seen: string[] = [];
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(String(message.value)) });
    await waitFor(() => seen.length >= 10, 'the kafkajs consumer to read the topic');
    await consumer.disconnect();
    await withAdmin(async (admin) => expect(await groupsTouching(admin, before, topic, clientId)).toEqual([groupId]));
    await withAdmin((admin) => admin.deleteGroups([groupId]));
  });
});
