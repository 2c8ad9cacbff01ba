/**
 * One processor instance wired from config: its store, Kafka client, registry serde, metrics and
 * the processor itself. main.ts runs one in the main thread; with PROCESSOR_STREAM_THREADS > 1 each
 * stream thread (stream-thread.ts) runs one.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PresenceConfig } from '../core';
import { AvroSerde, createRegistry } from '../contract/serde';
import { createKafka } from '../platform/kafka';
import type { Logger } from '../platform/log';
import type { ProcessorEnv } from './config';
import { createProcessorMetrics, type ProcessorMetrics } from './metrics';
import { startProcessor, type Processor, type ProcessorOptions } from './processor';
import { LevelPartitionStore } from './store';

export interface ProcessorInstance {
  readonly processor: Processor;
  readonly metrics: ProcessorMetrics;
}

/** Thread 0 keeps PROCESSOR_DATA_DIR itself, so a processor going from one thread to several keeps its store. */
export function threadDataDir(dataDir: string, thread: number): string {
  return thread === 0 ? dataDir : join(dataDir, `thread-${thread}`);
}

/** What a stream thread adds to the options config gives (stream-thread.ts). */
export type ThreadHooks = Pick<ProcessorOptions, 'beforeJoin' | 'onAssignment' | 'restoreGate' | 'heartbeatIntervalMs'>;

export async function startProcessorInstance(o: {
  env: ProcessorEnv; presence: PresenceConfig; log: Logger; thread: number; onFatal: (error: unknown) => void; hooks?: ThreadHooks;
}): Promise<ProcessorInstance> {
  const { env, presence, log } = o;
  const dataDir = threadDataDir(env.PROCESSOR_DATA_DIR, o.thread);
  mkdirSync(dataDir, { recursive: true });
  const store = await LevelPartitionStore.open(dataDir, (movedTo, cause) =>
    log.warn({ movedTo, cause: String(cause) }, 'local store could not be opened; moved aside, restoring from the changelog alone'));
  const metrics = createProcessorMetrics();
  const processor = await startProcessor({
    kafka: createKafka({ brokers: env.KAFKA_BROKERS, clientId: env.PROCESSOR_STREAM_THREADS > 1 ? `${env.KAFKA_CLIENT_ID}-t${o.thread}` : env.KAFKA_CLIENT_ID, log }),
    serde: await AvroSerde.create(createRegistry(env.SCHEMA_REGISTRY_URL), env.TOPIC_PREFIX),
    store, cfg: presence, log, metrics,
    prefix: env.TOPIC_PREFIX, groupId: env.PROCESSOR_GROUP_ID, guarantee: env.PROCESSOR_GUARANTEE,
    timerResolutionMs: env.PROCESSOR_TIMER_RESOLUTION_MS, sessionTimeoutMs: env.PROCESSOR_SESSION_TIMEOUT_MS,
    fetchMaxBytesPerPartition: env.PROCESSOR_FETCH_MAX_BYTES_PER_PARTITION, partitionsConcurrently: env.PROCESSOR_PARTITIONS_CONCURRENTLY,
    watermarkIntervalMs: env.PROCESSOR_WATERMARK_INTERVAL_MS, stallAfterMs: env.PROCESSOR_STALL_AFTER_MS,
    catchUpLagRecords: env.PROCESSOR_CATCH_UP_LAG_RECORDS, compactQuietMs: env.PROCESSOR_COMPACT_QUIET_MS, catchUpIntervalMs: env.PROCESSOR_CATCH_UP_INTERVAL_MS,
    collectWhenSettled: env.PROCESSOR_COLLECT_WHEN_SETTLED,
    ...(env.PROCESSOR_COMMIT_INTERVAL_MS === undefined ? {} : { commitIntervalMs: env.PROCESSOR_COMMIT_INTERVAL_MS }),
    onFatal: o.onFatal,
    ...o.hooks,
  });
  return { processor, metrics };
}
