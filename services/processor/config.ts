/** The processor's configuration: shared Kafka settings, its own, and the presence thresholds. */
import { z } from 'zod';
import type { PresenceConfig } from '../core';
import { envFlag, kafkaEnv, parseEnv, presenceConfigFromEnv, presenceEnv } from '../platform/config';
import { DEFAULT_FETCH_MAX_BYTES_PER_PARTITION, DEFAULT_PARTITIONS_CONCURRENTLY } from './processor';
import { DEFAULT_YOUNG_GENERATION_MB } from './stream-threads';

const processorEnv = kafkaEnv.merge(presenceEnv).extend({
  /** Where the LevelDB store lives. */
  PROCESSOR_DATA_DIR: z.string().min(1).default('.infra/processor'),
  /** Consumer group (and transactional id stem); default `${TOPIC_PREFIX}presence-processor`, so deployments with different prefixes never share a group. */
  PROCESSOR_GROUP_ID: z.string().min(1).optional(),
  /** at-least-once (default) or exactly-once (Kafka transactions, one transactional id per partition). */
  PROCESSOR_GUARANTEE: z.enum(['at-least-once', 'exactly-once']).default('at-least-once'),
  PROCESSOR_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(9301),
  /** How long a crashed member keeps its partitions before the group moves them (broker minimum 6 s). */
  PROCESSOR_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(30_000),
  /** How often each task checkpoints (changelog, store, input offsets); default 5000 at-least-once, 100 exactly-once. */
  PROCESSOR_COMMIT_INTERVAL_MS: z.coerce.number().int().min(10).max(300_000).optional(),
  /**
   * A user with nothing due for at least this long, untouched since it was saved, is held as its
   * encoded entry until its next event or timer (a restore leaves such users encoded); 0: never.
   */
  PROCESSOR_COMPACT_QUIET_MS: z.coerce.number().int().min(0).max(30 * 24 * 3_600_000).default(60_000),
  /** A task whose batch ends more than this many records behind is catching up (outputs deferred). */
  PROCESSOR_CATCH_UP_LAG_RECORDS: z.coerce.number().int().min(0).max(100_000_000).default(20_000),
  /** Longest a catching-up task defers its snapshots, changes and checkpoint. */
  PROCESSOR_CATCH_UP_INTERVAL_MS: z.coerce.number().int().min(10).max(300_000).default(60_000),
  /**
   * One full garbage collection of a stream thread when its tasks settle (all restored, none
   * catching up), so the garbage of a catch-up or restore is not kept resident while idle.
   */
  PROCESSOR_COLLECT_WHEN_SETTLED: envFlag(true),
  /** How often each task writes its watermark to presence.processor-watermark.v1. */
  PROCESSOR_WATERMARK_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /** A partition with input waiting and no progress for this long makes /healthz and /readyz 503. */
  PROCESSOR_STALL_AFTER_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
  PROCESSOR_TIMER_RESOLUTION_MS: z.coerce.number().int().min(10).max(5_000).default(100),
  /** Most bytes of one partition per fetch, i.e. per batch (the broker still sends at least one record batch). */
  PROCESSOR_FETCH_MAX_BYTES_PER_PARTITION: z.coerce.number().int().min(64 * 1024).max(64 * 1024 * 1024).default(DEFAULT_FETCH_MAX_BYTES_PER_PARTITION),
  /**
   * Stream threads (worker threads), as Kafka Streams' num.stream.threads: each is a group member
   * with its own consumer, producers, tasks and local store (thread 0 in PROCESSOR_DATA_DIR, thread
   * i in PROCESSOR_DATA_DIR/thread-i); the assignor keeps each task with the thread whose store holds it.
   */
  PROCESSOR_STREAM_THREADS: z.coerce.number().int().min(1).max(16).default(1),
  /**
   * Each stream thread's young generation in MiB (V8: three semi-spaces' worth, so 192 = 64 MiB
   * semi-spaces; 0 = V8's default, 16 MiB semi-spaces). See stream-threads.ts. A single-threaded
   * processor takes node's --max-semi-space-size instead.
   */
  PROCESSOR_YOUNG_GENERATION_MB: z.coerce.number().int().min(0).max(4096).default(DEFAULT_YOUNG_GENERATION_MB),
  /** Batches of different partitions (tasks) processed at once. */
  PROCESSOR_PARTITIONS_CONCURRENTLY: z.coerce.number().int().min(1).max(64).default(DEFAULT_PARTITIONS_CONCURRENTLY),
}).transform((e) => ({ ...e, PROCESSOR_GROUP_ID: e.PROCESSOR_GROUP_ID ?? defaultProcessorGroupId(e.TOPIC_PREFIX) }));
export type ProcessorEnv = z.infer<typeof processorEnv>;

/** The processor's group when PROCESSOR_GROUP_ID is not set: one per topic prefix (deployment). */
export function defaultProcessorGroupId(topicPrefix: string): string {
  return `${topicPrefix}presence-processor`;
}

export function loadProcessorConfig(env: NodeJS.ProcessEnv = process.env): { env: ProcessorEnv; presence: PresenceConfig } {
  const parsed = parseEnv(processorEnv, env);
  return { env: parsed, presence: presenceConfigFromEnv(parsed) };
}
