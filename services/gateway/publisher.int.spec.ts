/** The typed publisher against the real broker and registry: keys, values, batching, a dead broker. */
import { Kafka, logLevel } from 'kafkajs';
import { topicName } from '../contract/topics';
import { withFatalSends } from '../../test/faults';
import { consumeMessages, provisionPrefix, testKafka, uniquePrefix } from '../../test/helpers';
import { PresencePublisher, PublishError } from './publisher';

describe('PresencePublisher', () => {
  it('publishes every event kind, keyed as the processor joins them, in one batch', async () => {
    const prefix = uniquePrefix('pub');
    const { serde } = await provisionPrefix(prefix, 2);
    const publisher = await PresencePublisher.connect({ kafka: testKafka('publisher'), serde, prefix, gatewayId: 'gw-1', lingerMs: 20 });
    const s = { userId: 'ann', deviceId: 'laptop', sessionId: 'tab1', platform: 'web' as const };
    try {
      await Promise.all([
        publisher.heartbeat(s, 1_500, 1_000),
        publisher.disconnect(s, 2_000),
        publisher.setOverride('ann', { status: 'DoNotDisturb', customText: 'focus', expiresAt: 9_000 }, 1_100),
        publisher.setVisibility('ann', 'nobody', 1_200),
        publisher.joinRoom({ roomKind: 'doc', roomId: '42', userId: 'ann', sessionId: 'tab1', metadata: { cursor: '1' } }, 1_300),
        publisher.roomHeartbeat({ roomKind: 'doc', roomId: '42', userId: 'ann', sessionId: 'tab1' }, 1_400),
        publisher.leaveRoom({ roomKind: 'doc', roomId: '42', userId: 'ann', sessionId: 'tab1' }, 1_500),
      ]);
    } finally {
      await publisher.close();
    }
    const kafka = testKafka();
    const heartbeats = await consumeMessages(kafka, topicName('heartbeat', prefix), 2);
    const decodedHb = await Promise.all(heartbeats.map((m) => serde.decode('heartbeat', m.value)));
    expect(heartbeats.map((m) => m.key?.toString())).toEqual(['ann', 'ann']);
    expect(decodedHb.map((v) => [v.kind, v.observedAt, v.idleMs, v.gatewayId])).toEqual([['heartbeat', 1_000, 1_500, 'gw-1'], ['disconnect', 2_000, 0, 'gw-1']]);
    const overrides = await consumeMessages(kafka, topicName('override', prefix), 2);
    const decodedOv = await Promise.all(overrides.map((m) => serde.decode('override', m.value)));
    expect(decodedOv.map((v) => [v.kind, v.status, v.customText, v.expiresAt, v.visibility])).toEqual([
      ['status', 'DoNotDisturb', 'focus', 9_000, null], ['visibility', null, null, null, 'nobody'],
    ]);
    const rooms = await consumeMessages(kafka, topicName('room', prefix), 3);
    expect(rooms.map((m) => m.key?.toString())).toEqual(['doc/42', 'doc/42', 'doc/42']);
    const decodedRooms = await Promise.all(rooms.map((m) => serde.decode('room', m.value)));
    expect(decodedRooms.map((v) => [v.kind, v.metadata])).toEqual([['join', { cursor: '1' }], ['heartbeat', null], ['leave', null]]);
  });

  it('a producer that dies on a send fails that batch only: the next one goes out on a new producer', async () => {
    const prefix = uniquePrefix('pubfatal');
    const { serde } = await provisionPrefix(prefix, 1);
    const injected = withFatalSends(testKafka('publisher'), topicName('override', prefix), 1);
    const publisher = await PresencePublisher.connect({ kafka: injected.kafka, serde, prefix, lingerMs: 2 });
    try {
      injected.arm();
      await expect(publisher.setOverride('bo', { status: 'Busy' }, 1_000)).rejects.toThrow(PublishError);
      await publisher.setOverride('bo', { status: 'DoNotDisturb' }, 2_000);
      await publisher.setOverride('bo', { status: 'Available' }, 3_000);
    } finally {
      await publisher.close();
    }
    expect(injected.killed()).toBe(1);
    const overrides = await consumeMessages(testKafka(), topicName('override', prefix), 2);
    const decoded = await Promise.all(overrides.map((m) => serde.decode('override', m.value)));
    expect(decoded.map((v) => [v.status, v.setAt])).toEqual([['DoNotDisturb', 2_000], ['Available', 3_000]]);
  });

  it('a broker that cannot be reached is a clear error within the timeout, not a hang', async () => {
    const prefix = uniquePrefix('pubdead');
    const { serde } = await provisionPrefix(prefix, 1);
    const kafka = new Kafka({ brokers: ['127.0.0.1:1'], clientId: 'dead', logLevel: logLevel.NOTHING, connectionTimeout: 500, retry: { retries: 1, initialRetryTime: 100 } });
    const started = Date.now();
    await expect(PresencePublisher.connect({ kafka, serde, prefix, timeoutMs: 2_000 })).rejects.toThrow(PublishError);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
