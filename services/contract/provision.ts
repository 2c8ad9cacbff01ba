/** Idempotent topic provisioning: creates what is missing, checks co-partitioning of what exists. */
import type { Admin, ITopicConfig } from 'kafkajs';
import { CO_PARTITIONED, SAME_PARTITION_COUNT, TOPICS, topicName, type TopicRole } from './topics';

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
    await createTopicsAndWait(
      admin,
      missing.map(({ role, name }) => ({
        topic: name,
        numPartitions: opts.partitions,
        replicationFactor: opts.replicationFactor,
        configEntries: Object.entries(TOPICS[role].config).map(([k, v]) => ({ name: k, value: v })),
      })),
    );
  }
  const partitions = await partitionCounts(admin, wanted.map((t) => t.name));
  checkCoPartitioning(partitions, prefix, SAME_PARTITION_COUNT);
  return {
    created: missing.map((t) => t.name),
    existing: wanted.filter((t) => existingNames.has(t.name)).map((t) => t.name),
    partitions,
  };
}

/**
 * Creates topics and returns once every partition has a leader. kafkajs' own `waitForLeaders` gives
 * up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker answers for a moment after creation.
 */
export async function createTopicsAndWait(admin: Admin, topics: ITopicConfig[]): Promise<void> {
  await admin.createTopics({ waitForLeaders: false, topics });
  await partitionCounts(admin, topics.map((t) => t.topic));
}

const TRANSIENT_METADATA_ERRORS = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/**
 * Partition count of each topic, once every partition has a leader. Right after creation a broker
 * may briefly not know the topic or have no leader yet: those cases are retried (for up to ~10 s).
 */
export async function partitionCounts(admin: Admin, topics: string[]): Promise<Record<string, number>> {
  for (let attempt = 0; ; attempt++) {
    let transient: unknown;
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
      const leaderless = metadata.filter((t) => t.partitions.some((p) => p.leader < 0));
      if (leaderless.length === 0) return Object.fromEntries(metadata.map((t) => [t.name, t.partitions.length]));
      transient = new Error(`topics without a leader yet: ${leaderless.map((t) => t.name).join(', ')}`);
    } catch (e) {
      if (!TRANSIENT_METADATA_ERRORS.has((e as { type?: string }).type ?? '')) throw e;
      transient = e;
    }
    if (attempt >= 100) throw transient;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The processor joins these topics by key within one partition number: counts must agree. By default
 * the processor's inputs (CO_PARTITIONED); provisioning also checks the snapshot and watermark topics.
 */
export function checkCoPartitioning(partitions: Record<string, number>, prefix = '', roles: readonly TopicRole[] = CO_PARTITIONED): void {
  const counts = roles.map((role) => [topicName(role, prefix), partitions[topicName(role, prefix)]] as const);
  const distinct = new Set(counts.map(([, n]) => n));
  if (distinct.size > 1 || distinct.has(undefined)) {
    throw new CoPartitioningError(
      `topics joined by key must have the same partition count: ${counts.map(([t, n]) => `${t}=${n ?? 'missing'}`).join(', ')}`,
    );
  }
}
