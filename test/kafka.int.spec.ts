/**
 * Proves the pinned broker works with kafkajs 2.2.4 for what the product needs: Avro through the
 * registry, consumer groups, and transactions seen through read_committed.
 */
import type { PresenceHeartbeat } from '../services/contract/avro-types';
import { topicName } from '../services/contract/topics';
import { consumeMessages, provisionPrefix, testKafka, uniquePrefix } from './helpers';

const heartbeat = (userId: string, idleMs: number): PresenceHeartbeat => ({
  kind: 'heartbeat', userId, deviceId: `${userId}-laptop`, sessionId: `${userId}-tab1`, platform: 'web',
  observedAt: 1_790_000_000_000 + idleMs, idleMs, gatewayId: null,
});

describe('kafkajs against the real broker and registry', () => {
  it('produces Avro through the registry and reads it back in a consumer group', async () => {
    const prefix = uniquePrefix('avro');
    const { serde } = await provisionPrefix(prefix);
    const topic = topicName('heartbeat', prefix);
    const kafka = testKafka();
    const producer = kafka.producer();
    await producer.connect();
    const sent = [heartbeat('alice', 0), heartbeat('bob', 40_000), heartbeat('carol', 1)];
    try {
      await producer.send({
        topic,
        messages: await Promise.all(sent.map(async (v) => ({ key: v.userId, value: await serde.encode('heartbeat', v) }))),
      });
    } finally {
      await producer.disconnect();
    }

    const received = await consumeMessages(kafka, topic, 3);
    const decoded = await Promise.all(received.map((m) => serde.decode('heartbeat', m.value)));
    expect(decoded.map((d) => ({ ...d })).sort((a, b) => a.userId.localeCompare(b.userId))).toEqual(sent);
    expect(received.map((m) => m.key?.toString()).sort()).toEqual(['alice', 'bob', 'carol']);
  });

  it('commits and aborts transactions; read_committed sees only the committed records', async () => {
    const prefix = uniquePrefix('txn');
    await provisionPrefix(prefix, 1);
    const topic = topicName('changes', prefix);
    const kafka = testKafka();
    const producer = kafka.producer({ transactionalId: `${prefix}tx`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const committed = await producer.transaction();
      await committed.send({ topic, messages: [{ key: 'u1', value: 'committed-1' }, { key: 'u2', value: 'committed-2' }] });
      await committed.commit();

      const aborted = await producer.transaction();
      await aborted.send({ topic, messages: [{ key: 'u3', value: 'aborted-1' }] });
      await aborted.abort();

      const last = await producer.transaction();
      await last.send({ topic, messages: [{ key: 'u4', value: 'committed-3' }] });
      await last.commit();
    } finally {
      await producer.disconnect();
    }

    const committedView = await consumeMessages(kafka, topic, 3);
    expect(committedView.map((m) => m.value?.toString())).toEqual(['committed-1', 'committed-2', 'committed-3']);
    // The aborted record is in the log: a read_uncommitted reader sees it, so the filter is real.
    const everything = await consumeMessages(kafka, topic, 4, { readUncommitted: true });
    expect(everything.map((m) => m.value?.toString())).toContain('aborted-1');
  });
});
