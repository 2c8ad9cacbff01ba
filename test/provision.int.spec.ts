/** Topic provisioning is idempotent, configures compaction, and guards co-partitioning. */
import { ConfigResourceTypes } from 'kafkajs';
import { CoPartitioningError, createTopicsAndWait, provisionTopics } from '../services/contract/provision';
import { topicName } from '../services/contract/topics';
import { uniquePrefix, withAdmin } from './helpers';

describe('topic provisioning', () => {
  it('creates every topic once, with compaction where the contract says', async () => {
    const prefix = uniquePrefix('prov');
    await withAdmin(async (admin) => {
      const first = await provisionTopics(admin, { prefix, partitions: 2, replicationFactor: 1 });
      expect(first.created).toHaveLength(15);
      const second = await provisionTopics(admin, { prefix, partitions: 2, replicationFactor: 1 });
      expect(second.created).toEqual([]);
      expect(second.existing).toHaveLength(15);
      expect(Object.values(second.partitions)).toEqual(Array(15).fill(2));

      const policy = async (topic: string) => {
        const { resources } = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
        });
        return resources[0]?.configEntries[0]?.configValue;
      };
      expect(await policy(topicName('snapshot', prefix))).toBe('compact');
      expect(await policy(topicName('roomSnapshot', prefix))).toBe('compact');
      expect(await policy(topicName('watermark', prefix))).toBe('compact');
      expect(await policy(topicName('gatewayLease', prefix))).toBe('compact');
      expect(await policy(topicName('storeChangelog', prefix))).toBe('compact');
      expect(await policy(topicName('contacts', prefix))).toBe('compact');
      expect(await policy(topicName('changes', prefix))).toBe('delete');
      expect(await policy(topicName('roomChanges', prefix))).toBe('delete');
      expect(await policy(topicName('journal', prefix))).toBe('delete');
      expect(await policy(topicName('dlq', prefix))).toBe('delete');
    });
  });

  it('refuses topics joined by key with different partition counts', async () => {
    const prefix = uniquePrefix('copart');
    await withAdmin(async (admin) => {
      await createTopicsAndWait(admin, [{ topic: topicName('override', prefix), numPartitions: 1 }]);
      await expect(provisionTopics(admin, { prefix, partitions: 3, replicationFactor: 1 })).rejects.toThrow(CoPartitioningError);
      await expect(provisionTopics(admin, { prefix, partitions: 3, replicationFactor: 1 })).rejects.toThrow(
        new RegExp(`${topicName('override', prefix).replace(/\./g, '\\.')}=1`),
      );
    });
  });
});
