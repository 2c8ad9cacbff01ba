/** Starting the product's processor and query service as children with the bench's settings. */
import { join } from 'node:path';
import type { BenchConfig } from './config';
import { Child, freePort } from './child';
import { PROCESSOR_MALLOC_ENV } from '../../services/processor/malloc-env';

export type Guarantee = 'at-least-once' | 'exactly-once';

/** PRESENCE_* thresholds, as the services read them. */
export type Thresholds = Readonly<Record<string, string>>;

export interface ProcessorChild {
  readonly child: Child;
  readonly url: string;
}

export async function startProcessorChild(cfg: BenchConfig, o: {
  name: string; prefix: string; groupId: string; guarantee: Guarantee; dataDir: string; thresholds: Thresholds;
}): Promise<ProcessorChild> {
  const port = await freePort();
  const child = new Child(o.name, cfg.root, 'dist/services/processor/main.js', {
    ...(cfg.processorMalloc ? PROCESSOR_MALLOC_ENV : {}),
    KAFKA_BROKERS: cfg.kafka.KAFKA_BROKERS.join(','),
    SCHEMA_REGISTRY_URL: cfg.kafka.SCHEMA_REGISTRY_URL,
    TOPIC_PREFIX: o.prefix,
    PROCESSOR_DATA_DIR: o.dataDir,
    PROCESSOR_GROUP_ID: o.groupId,
    PROCESSOR_GUARANTEE: o.guarantee,
    PROCESSOR_HTTP_PORT: String(port),
    PROCESSOR_STREAM_THREADS: String(cfg.processorThreads),
    // info: the restore and assignment lines are the only source of restore timing; nothing is logged per batch.
    LOG_LEVEL: 'info',
    ...o.thresholds,
  }, join(cfg.workDir, `${o.name}.log`), cfg.processorNodeArgs);
  return { child, url: `http://127.0.0.1:${port}` };
}

export interface QueryChild {
  readonly child: Child;
  readonly url: string;
}

export async function startQueryChild(cfg: BenchConfig, o: { prefix: string; secret: string; thresholds: Thresholds; env?: Readonly<Record<string, string>> }): Promise<QueryChild> {
  const port = await freePort();
  const child = new Child('query', cfg.root, 'dist/services/query/main.js', {
    KAFKA_BROKERS: cfg.kafka.KAFKA_BROKERS.join(','),
    SCHEMA_REGISTRY_URL: cfg.kafka.SCHEMA_REGISTRY_URL,
    TOPIC_PREFIX: o.prefix,
    KAFKA_CLIENT_ID: `${cfg.runId}-query`,
    AUTH_JWT_SECRET: o.secret,
    QUERY_PORT: String(port),
    LOG_LEVEL: 'info',
    ...o.thresholds,
    ...o.env,
  }, join(cfg.workDir, 'query.log'));
  return { child, url: `http://127.0.0.1:${port}` };
}

/**
 * Records behind the ends of the processor's input partitions, from its /metrics (its fetch
 * position after each batch). Committed offsets are not the measure: they advance per checkpoint.
 */
export async function processorInputLag(processorUrl: string): Promise<number> {
  const text = await (await fetch(`${processorUrl}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith('presence_processor_input_lag_records{')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}
