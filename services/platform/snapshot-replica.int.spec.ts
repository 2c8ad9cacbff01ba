/** The snapshot replica against the real broker: it reads without a consumer group. */
import { createLogger } from '../platform/log';
import { provisionPrefix, testKafka, uniquePrefix, waitFor, withAdmin } from '../../test/helpers';
import { topicName } from '../contract/topics';
import { SnapshotReplica } from './snapshot-replica';

it('catches up and follows live without joining (or leaving behind) a consumer group', async () => {
  const prefix = uniquePrefix('replica');
  const { serde } = await provisionPrefix(prefix, 2);
  const producer = testKafka().producer();
  await producer.connect();
  const snapshot = (userId: string, version: number) => serde.encode('snapshot', {
    userId, status: 'Online', statusSince: 1, lastSeen: Date.now(), lastActive: Date.now(), override: null, visibility: 'everyone', lastSeenPrivacy: 'exact', activities: [],
    devices: [{ deviceId: 'd', sessionId: 's', platform: 'web', gatewayId: null, active: true }], version, emittedAt: Date.now(), offlineAt: null,
  });
  await producer.send({ topic: topicName('snapshot', prefix), messages: [{ key: 'alice', value: await snapshot('alice', 1) }] });
  const replica = new SnapshotReplica({ kafka: testKafka('replica'), serde, prefix, rooms: true, log: createLogger('replica', 'silent'), groupIdBase: `${prefix}query` });
  try {
    await replica.start();
    await replica.whenReady;
    expect(replica.users.get('alice')?.version).toBe(1);
    await producer.send({ topic: topicName('snapshot', prefix), messages: [{ key: 'bob', value: await snapshot('bob', 1) }] });
    await waitFor(() => replica.users.has('bob'), 'a live snapshot reaches the replica');
    const groups = await withAdmin(async (admin) => (await admin.listGroups()).groups.map((g) => g.groupId));
    expect(groups.filter((g) => g.startsWith(prefix))).toEqual([]);
  } finally {
    await replica.stop();
    await producer.disconnect();
  }
});
