/**
 * Reads given topic-partitions from given offsets, to the end offsets read at start or following
 * live, WITHOUT a consumer group: nothing is joined, nothing committed, nothing left on the broker
 * when it stops. For replicas and restores, which own their positions (a local store, a checkpoint)
 * and must not leave one random group per start behind.
 *
 * kafkajs has no manual assignment, so this is built on its lower layers: the Cluster its producer,
 * consumer and admin share (metadata, leaders, connections, ListOffsets) and Broker.fetch, with
 * kafkajs' own Batch for filtering aborted transactions, control records and records below the
 * fetched offset. Those are kafkajs internals (`kafkajs/src/...`, stable since 2.0, and kafkajs 2.2.4
 * is its last release); the test pins the behaviour.
 */
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from './log';

// kafkajs internals, not in its typings.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Batch = require('kafkajs/src/consumer/batch') as new (topic: string, fetchedOffset: string, partitionData: RawPartitionData) => { messages: KafkaMessage[] };

interface RawPartitionData {
  partition: number;
  highWatermark: string;
  lastStableOffset: string;
  abortedTransactions: unknown[];
  messages: Array<KafkaMessage & { isControlRecord?: boolean }>;
}
interface FetchResponse {
  responses: Array<{ topicName: string; partitions: RawPartitionData[] }>;
}
interface Broker {
  fetch(req: {
    replicaId: number; isolationLevel: number; maxWaitTime: number; minBytes: number; maxBytes: number;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>;
  }): Promise<FetchResponse>;
}
interface Cluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  refreshMetadata(): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(o: { nodeId: string }): Promise<Broker>;
  fetchTopicsOffset(topics: Array<{ topic: string; partitions: Array<{ partition: number }>; fromBeginning: boolean }>): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
}

const READ_UNCOMMITTED = 0;
const READ_COMMITTED = 1;

/** kafkajs' own cluster factory (a private symbol of the Kafka instance): same brokers, retry, logger, ssl, sasl. */
function createCluster(kafka: Kafka, readCommitted: boolean): Cluster {
  const sym = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  if (!sym) throw new Error('PartitionReader: this kafkajs has no private:Kafka:createCluster (written for kafkajs 2.x)');
  const factory = (kafka as unknown as Record<symbol, (o: object) => Cluster>)[sym] as (o: object) => Cluster;
  return factory({ allowAutoTopicCreation: false, isolationLevel: readCommitted ? READ_COMMITTED : READ_UNCOMMITTED, metadataMaxAge: 300_000 });
}

export interface PartitionStart {
  readonly topic: string;
  readonly partition: number;
  /** The first offset to read; 'earliest' is the log start, 'latest' the end (only new records). */
  readonly from: bigint | 'earliest' | 'latest';
}

export interface PartitionBatch {
  readonly topic: string;
  readonly partition: number;
  /** Records in offset order: committed ones only when readCommitted, never control records. */
  readonly messages: readonly KafkaMessage[];
  /** The offset to read next, i.e. the position after this batch (also past filtered records and markers). */
  readonly nextOffset: bigint;
  readonly highWatermark: bigint;
}

export interface PartitionReaderOptions {
  readonly kafka: Kafka;
  readonly partitions: readonly PartitionStart[];
  readonly log?: Logger;
  /** Only committed records (read_committed; 'latest' and the end offsets are then the last stable offset). Default true. */
  readonly readCommitted?: boolean;
  readonly maxWaitMs?: number;
  readonly maxBytesPerPartition?: number;
  readonly maxBytes?: number;
  /** A start below the log start (records deleted): go on from the earliest (default, logged) or fail. */
  readonly outOfRange?: 'earliest' | 'fail';
}

export type Until = 'end' | 'live';

/** The key of a topic-partition in `positions()`. */
export const topicPartitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const key = topicPartitionKey;

/**
 * One reader over a fixed set of partitions. `run` reads until every partition reached the end
 * offset read when `run` started ('end'), or until `stop` ('live', calling onCaughtUp once that end
 * is reached); onBatch is awaited, one batch at a time per partition, in offset order.
 */
export class PartitionReader {
  private readonly cluster: Cluster;
  private readonly readCommitted: boolean;
  private readonly next = new Map<string, bigint>();
  private stopped = false;
  private connected = false;
  private running: Promise<unknown> | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly o: PartitionReaderOptions) {
    this.readCommitted = o.readCommitted ?? true;
    this.cluster = createCluster(o.kafka, this.readCommitted);
  }

  /** Where each partition will be read next (after `run` resolved the starts). */
  positions(): Map<string, { topic: string; partition: number; offset: bigint }> {
    return new Map(this.o.partitions.map((p) => [key(p.topic, p.partition), { topic: p.topic, partition: p.partition, offset: this.next.get(key(p.topic, p.partition)) ?? -1n }]));
  }

  async run(onBatch: (b: PartitionBatch) => Promise<void> | void, opts: { until: Until; onCaughtUp?: () => void }): Promise<void> {
    if (this.running) throw new Error('PartitionReader.run: already running');
    const p = this.loop(onBatch, opts);
    this.running = p.catch(() => undefined);
    return p;
  }

  /** Ends a live run (after the batch in hand) and closes the connections; idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
    if (this.connected) {
      this.connected = false;
      await this.cluster.disconnect();
    }
  }

  private async loop(onBatch: (b: PartitionBatch) => Promise<void> | void, opts: { until: Until; onCaughtUp?: () => void }): Promise<void> {
    const topics = [...new Set(this.o.partitions.map((p) => p.topic))];
    await this.cluster.connect();
    this.connected = true;
    await this.cluster.addMultipleTargetTopics(topics);
    const [earliest, latest] = await Promise.all([this.offsets(true), this.offsets(false)]);
    for (const p of this.o.partitions) {
      const k = key(p.topic, p.partition);
      this.next.set(k, p.from === 'earliest' ? (earliest.get(k) as bigint) : p.from === 'latest' ? (latest.get(k) as bigint) : p.from);
    }
    const end = latest;
    let caughtUp = false;
    let backoffMs = 100;
    while (!this.stopped) {
      const behind = this.o.partitions.filter((p) => (this.next.get(key(p.topic, p.partition)) as bigint) < (end.get(key(p.topic, p.partition)) as bigint));
      if (behind.length === 0 && !caughtUp) {
        caughtUp = true;
        opts.onCaughtUp?.();
        if (opts.until === 'end') break;
      }
      try {
        await this.fetchOnce(opts.until === 'end' ? behind : this.o.partitions, onBatch);
        backoffMs = 100;
      } catch (e) {
        if (this.stopped) break;
        const err = e as { name?: string; retriable?: boolean; topic?: string; partition?: number; message?: string };
        if (err.name === 'KafkaJSOffsetOutOfRange' && err.topic !== undefined && err.partition !== undefined) {
          const k = key(err.topic, err.partition);
          if ((this.o.outOfRange ?? 'earliest') === 'fail') throw e;
          const start = (await this.offsets(true)).get(k) as bigint;
          this.o.log?.warn({ topic: err.topic, partition: err.partition, from: String(this.next.get(k)), logStart: String(start) }, 'offset below the log start (records deleted); reading on from the earliest');
          this.next.set(k, start);
          continue;
        }
        if (err.retriable === false && err.name !== 'KafkaJSConnectionError' && err.name !== 'KafkaJSConnectionClosedError') throw e;
        this.o.log?.warn({ err: err.message, backoffMs }, 'partition reader fetch failed; refreshing metadata and retrying');
        await this.sleep(backoffMs);
        backoffMs = Math.min(5_000, backoffMs * 2);
        await this.cluster.refreshMetadata().catch(() => undefined);
      }
    }
  }

  private async offsets(fromBeginning: boolean): Promise<Map<string, bigint>> {
    const byTopic = new Map<string, number[]>();
    for (const p of this.o.partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
    const res = await this.cluster.fetchTopicsOffset([...byTopic].map(([topic, ps]) => ({ topic, partitions: ps.map((partition) => ({ partition })), fromBeginning })));
    return new Map(res.flatMap((t) => t.partitions.map((p) => [key(t.topic, p.partition), BigInt(p.offset)] as const)));
  }

  /** One fetch per leader for `parts`, all at once; each partition's batch handed on in order. */
  private async fetchOnce(parts: readonly PartitionStart[], onBatch: (b: PartitionBatch) => Promise<void> | void): Promise<void> {
    const byLeader = new Map<string, Map<string, number[]>>();
    const byTopic = new Map<string, number[]>();
    for (const p of parts) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
    for (const [topic, ps] of byTopic) {
      for (const [nodeId, leaderParts] of Object.entries(this.cluster.findLeaderForPartitions(topic, ps))) {
        const m = byLeader.get(nodeId) ?? new Map<string, number[]>();
        m.set(topic, leaderParts);
        byLeader.set(nodeId, m);
      }
    }
    await Promise.all([...byLeader].map(async ([nodeId, topics]) => {
      const broker = await this.cluster.findBroker({ nodeId });
      const requested = new Map<string, bigint>();
      for (const [topic, ps] of topics) for (const partition of ps) requested.set(key(topic, partition), this.next.get(key(topic, partition)) as bigint);
      const res = await this.fetchFrom(broker, topics, requested, this.o.maxWaitMs ?? 100);
      for (const t of res.responses) {
        for (let data of t.partitions) {
          if (this.stopped) return;
          const k = key(t.topicName, data.partition);
          const fetched = requested.get(k);
          if (fetched === undefined || this.next.get(k) !== fetched) continue;
          let alone = false;
          if (data.messages.length === 0 && readableEnd(data, this.readCommitted) > fetched) {
            // Nothing returned below the readable end: other partitions may have filled the response,
            // so ask for this one alone before concluding it holds only emptied batches.
            const single = await this.fetchFrom(broker, new Map([[t.topicName, [data.partition]]]), requested, 0);
            data = single.responses[0]?.partitions[0] ?? data;
            alone = true;
          }
          const nextOffset = nextAfter(fetched, data, this.readCommitted, alone);
          const messages = new Batch(t.topicName, String(fetched), data).messages;
          if (messages.length > 0) {
            await onBatch({ topic: t.topicName, partition: data.partition, messages, nextOffset, highWatermark: BigInt(data.highWatermark) });
          }
          this.next.set(k, nextOffset);
        }
      }
    }));
  }

  private fetchFrom(broker: Broker, topics: Map<string, number[]>, offsets: Map<string, bigint>, maxWaitTime: number): Promise<FetchResponse> {
    return broker.fetch({
      replicaId: -1,
      isolationLevel: this.readCommitted ? READ_COMMITTED : READ_UNCOMMITTED,
      maxWaitTime,
      minBytes: 1,
      maxBytes: this.o.maxBytes ?? 16 * 1024 * 1024,
      topics: [...topics].map(([topic, ps]) => ({
        topic,
        partitions: ps.map((partition) => ({ partition, fetchOffset: String(offsets.get(key(topic, partition))), maxBytes: this.o.maxBytesPerPartition ?? 4 * 1024 * 1024 })),
      })),
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(() => { this.wake = null; r(); }, ms);
      this.wake = () => { clearTimeout(t); this.wake = null; r(); };
    });
  }
}

/** Where a reader can read up to: the last stable offset with read_committed (when known), else the high watermark. */
function readableEnd(data: Pick<RawPartitionData, 'highWatermark' | 'lastStableOffset'>, readCommitted: boolean): bigint {
  const lso = BigInt(data.lastStableOffset);
  return readCommitted && lso >= 0n ? lso : BigInt(data.highWatermark);
}

/**
 * The position after a fetched partition: past its last record (aborted ones and transaction
 * markers included: kafkajs decodes them and Batch filters them), else unchanged. When the
 * partition was fetched alone and returned no record at all although the fetched offset is below
 * the readable end, what lies there are record batches emptied by compaction (the broker returns
 * the first batch at or after the offset whatever its size), so the position moves to that end;
 * otherwise the reader would fetch the same offset forever.
 */
export function nextAfter(fetched: bigint, data: Pick<RawPartitionData, 'messages' | 'highWatermark' | 'lastStableOffset'>, readCommitted: boolean, fetchedAlone = false): bigint {
  let next = fetched;
  for (const m of data.messages) {
    const after = BigInt(m.offset) + 1n;
    if (after > next) next = after;
  }
  if (data.messages.length > 0 || !fetchedAlone) return next;
  const end = readableEnd(data, readCommitted);
  return end > fetched ? end : fetched;
}
