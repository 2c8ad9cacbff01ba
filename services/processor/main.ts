/** Processor entry point: reads config, wires Kafka, registry, LevelDB store, metrics; handles signals. */
import { mkdirSync } from 'node:fs';
import { AvroSerde, createRegistry } from '../contract/serde';
import { startOpsServer } from '../platform/http';
import { createKafka } from '../platform/kafka';
import { exitOnStartFailure, stopOnSignals } from '../platform/lifecycle';
import { createLogger } from '../platform/log';
import { loadProcessorConfig } from './config';
import { createProcessorMetrics } from './metrics';
import { startProcessor } from './processor';
import { LevelPartitionStore } from './store';

async function main(): Promise<void> {
  const { env, presence } = loadProcessorConfig();
  const log = createLogger('processor', env.LOG_LEVEL);
  mkdirSync(env.PROCESSOR_DATA_DIR, { recursive: true });
  const store = await LevelPartitionStore.open(env.PROCESSOR_DATA_DIR, (movedTo, cause) =>
    log.warn({ movedTo, cause: String(cause) }, 'local store could not be opened; moved aside, restoring from the changelog alone'));
  const metrics = createProcessorMetrics();
  const processor = await startProcessor({
    kafka: createKafka({ brokers: env.KAFKA_BROKERS, clientId: env.KAFKA_CLIENT_ID, log }),
    serde: await AvroSerde.create(createRegistry(env.SCHEMA_REGISTRY_URL), env.TOPIC_PREFIX),
    store, cfg: presence, log, metrics,
    prefix: env.TOPIC_PREFIX, groupId: env.PROCESSOR_GROUP_ID, guarantee: env.PROCESSOR_GUARANTEE,
    timerResolutionMs: env.PROCESSOR_TIMER_RESOLUTION_MS, sessionTimeoutMs: env.PROCESSOR_SESSION_TIMEOUT_MS,
    fetchMaxBytesPerPartition: env.PROCESSOR_FETCH_MAX_BYTES_PER_PARTITION, partitionsConcurrently: env.PROCESSOR_PARTITIONS_CONCURRENTLY,
    watermarkIntervalMs: env.PROCESSOR_WATERMARK_INTERVAL_MS, stallAfterMs: env.PROCESSOR_STALL_AFTER_MS,
    catchUpLagRecords: env.PROCESSOR_CATCH_UP_LAG_RECORDS, catchUpIntervalMs: env.PROCESSOR_CATCH_UP_INTERVAL_MS,
    ...(env.PROCESSOR_COMMIT_INTERVAL_MS === undefined ? {} : { commitIntervalMs: env.PROCESSOR_COMMIT_INTERVAL_MS }),
    // A consumer that crashed for good cannot make progress: exit so a supervisor restarts us.
    onFatal: () => {
      log.fatal({}, 'exiting: the consumer stopped for good');
      process.exit(70);
    },
  });
  const http = await startOpsServer({ port: env.PROCESSOR_HTTP_PORT, registry: metrics.registry, ready: processor.ready, healthy: processor.healthy, health: processor.health });
  log.info({ guarantee: env.PROCESSOR_GUARANTEE, port: env.PROCESSOR_HTTP_PORT, presence }, 'processor started');

  stopOnSignals(log, 'finishing the batch, committing, closing the store', async () => {
    http.close();
    await processor.stop();
  });
}

main().catch(exitOnStartFailure);
