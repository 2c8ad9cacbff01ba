/** Idempotent topic provisioning: creates what is missing, checks co-partitioning of what exists. */
import type { Admin } from 'kafkajs';
import { CO_PARTITIONED, TOPICS, topicName, type TopicRole } from './topics';

export interface ProvisionOptions {
  prefix?: string;
  partitions: number;
  replicationFactor: number;
}

export interface ProvisionResult {
  created: string[];
  existing: string[];
  partitions: Record<string, number>;
}

export class CoPartitioningError extends Error {
  readonly code = 'CO_PARTITIONING';
}

export async function provisionTopics(admin: Admin, opts: ProvisionOptions): Promise<ProvisionResult> {
  const prefix = opts.prefix ?? '';
  const wanted = (Object.keys(TOPICS) as TopicRole[]).map((role) => ({ role, name: topicName(role, prefix) }));
  const existingNames = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existingNames.has(t.name));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map(({ role, name }) => ({
        topic: name,
        numPartitions: opts.partitions,
        replicationFactor: opts.replicationFactor,
        configEntries: Object.entries(TOPICS[role].config).map(([k, v]) => ({ name: k, value: v })),
      })),
    });
  }
  const partitions = await partitionCounts(admin, wanted.map((t) => t.name));
  checkCoPartitioning(partitions, prefix);
  return {
    created: missing.map((t) => t.name),
    existing: wanted.filter((t) => existingNames.has(t.name)).map((t) => t.name),
    partitions,
  };
}

export async function partitionCounts(admin: Admin, topics: string[]): Promise<Record<string, number>> {
  // Right after creation a broker may briefly not know the topic yet: retry that case only.
  for (let attempt = 0; ; attempt++) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
      return Object.fromEntries(metadata.map((t) => [t.name, t.partitions.length]));
    } catch (e) {
      if (attempt >= 20 || (e as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The processor joins these topics by key within one partition number: counts must agree. */
export function checkCoPartitioning(partitions: Record<string, number>, prefix = ''): void {
  const counts = CO_PARTITIONED.map((role) => [topicName(role, prefix), partitions[topicName(role, prefix)]] as const);
  const distinct = new Set(counts.map(([, n]) => n));
  if (distinct.size > 1 || distinct.has(undefined)) {
    throw new CoPartitioningError(
      `topics joined by key must have the same partition count: ${counts.map(([t, n]) => `${t}=${n ?? 'missing'}`).join(', ')}`,
    );
  }
}
