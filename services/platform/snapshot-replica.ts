/**
 * A full local replica of the compacted snapshot topics, for readers (query service, notification
 * gate). A group-less PartitionReader reads every partition from the earliest offset (compaction
 * keeps that small), so a start joins no consumer group and leaves none behind.
 *
 * Ready means caught up: every partition's position reached the high watermark read at start (the
 * reader's position moves past a transactional topic's final commit marker).
 *
 * It also reads the compacted presence.processor-watermark.v1 and keeps, per partition, the highest
 * watermark W seen (a tombstone forgets it): `watermarkOf(userId)` is the W of the user's snapshot
 * partition (murmur2 of the userId over the snapshot topic's partition count, as the processor's
 * producer partitions it), for the core's reader rule. A deployment without the watermark topic, or
 * with one whose partition count differs from the snapshot topic's, has no watermarks (null): the
 * readers then decay snapshots by their leases alone, as before.
 */
import type { Kafka } from 'kafkajs';
import type { RoomView, UserView } from '../core';
import { RegistryUnavailableError, type AvroSerde } from '../contract/serde';
import { roomViewFromSnapshot, viewFromSnapshot } from '../contract/snapshot-codec';
import { topicName } from '../contract/topics';
import { watermarkFromRecord } from '../contract/watermark-codec';
import type { Logger } from './log';
import { PartitionReader } from './partition-reader';
import { keyHash } from './partitioner';

export interface ReplicaUpdate {
  readonly kind: 'user' | 'room';
  /** userId, or "<roomKind>/<roomId>". */
  readonly key: string;
  readonly previous: UserView | RoomView | null;
  readonly next: UserView | RoomView | null;
}

export interface SnapshotReplicaOptions {
  readonly kafka: Kafka;
  readonly serde: AvroSerde;
  readonly prefix: string;
  /** Replicate room snapshots too (the query service does; the gate does not). */
  readonly rooms: boolean;
  readonly log: Logger;
  /** Unused since the replica reads without a consumer group; kept so callers need not change. */
  readonly groupIdBase?: string;
  /** Called for every applied record, in log order per key. */
  readonly onUpdate?: (u: ReplicaUpdate) => void;
  /** Called when the watermark of a snapshot partition changed (null: forgotten by a tombstone). */
  readonly onWatermark?: (partition: number, watermark: number | null) => void;
  /** Called for a record that cannot be decoded (it is skipped). */
  readonly onUndecodable?: (topic: string, partition: number, offset: string, error: unknown) => void;
  /**
   * A tail instead of a replica (a gateway following its sockets' subscriptions): read from the
   * partitions' ends, decode only the user snapshots `follows` accepts (by key, before decoding),
   * keep nothing in `users`/`rooms` (onUpdate is the only output). Ready at once.
   */
  readonly tail?: { readonly follows: (userId: string) => boolean };
}

export class SnapshotReplica {
  readonly users = new Map<string, UserView>();
  readonly rooms = new Map<string, RoomView>();
  private readonly positions = new Map<string, bigint>();
  private readonly startEnds = new Map<string, bigint>();
  private readonly lags = new Map<string, number>();
  private readonly watermarks = new Map<number, number>();
  private snapshotPartitions = 0;
  private reader: PartitionReader | null = null;
  private running: Promise<void> = Promise.resolve();
  private caughtUp = false;
  private resolveReady!: () => void;
  /** Resolves once the replica has caught up to the high watermarks read at start. */
  readonly whenReady = new Promise<void>((r) => (this.resolveReady = r));

  constructor(private readonly opts: SnapshotReplicaOptions) {}

  ready(): boolean {
    return this.caughtUp;
  }

  /** Records behind the latest high watermark the consumer has seen, summed over partitions. */
  lag(): number {
    let total = 0;
    for (const l of this.lags.values()) total += l;
    return total;
  }

  /** The snapshot partition of `userId` (null before start). */
  partitionOf(userId: string): number | null {
    return this.snapshotPartitions === 0 ? null : (keyHash(userId) & 0x7fffffff) % this.snapshotPartitions;
  }

  /** The latest processor watermark W of a snapshot partition, or null when none was seen. */
  watermark(partition: number): number | null {
    return this.watermarks.get(partition) ?? null;
  }

  /** W of the partition holding `userId`'s snapshot, or null: pass it to the core's reader rule. */
  watermarkOf(userId: string): number | null {
    const p = this.partitionOf(userId);
    return p === null ? null : this.watermark(p);
  }

  async start(): Promise<void> {
    const { kafka, prefix, log } = this.opts;
    const topics = [topicName('snapshot', prefix), ...(this.opts.rooms ? [topicName('roomSnapshot', prefix)] : [])];
    const watermarkTopic = topicName('watermark', prefix);
    const admin = kafka.admin();
    await admin.connect();
    try {
      // Just after provisioning a partition may not have its leader known yet (NOT_LEADER, retriable).
      const fetchTopicOffsets = (topic: string) => retryRetriable(() => admin.fetchTopicOffsets(topic), `offsets of ${topic}`, log);
      this.snapshotPartitions = (await fetchTopicOffsets(topicName('snapshot', prefix))).length;
      if ((await admin.listTopics()).includes(watermarkTopic)) {
        const n = (await fetchTopicOffsets(watermarkTopic)).length;
        if (n === this.snapshotPartitions) topics.push(watermarkTopic);
        else log.error({ topic: watermarkTopic, partitions: n, snapshotPartitions: this.snapshotPartitions }, 'watermark topic has another partition count than the snapshot topic: watermarks ignored');
      } else {
        log.warn({ topic: watermarkTopic }, 'no watermark topic: snapshots decay by their leases alone');
      }
      for (const topic of topics) {
        for (const o of await fetchTopicOffsets(topic)) {
          this.startEnds.set(`${topic}:${o.partition}`, BigInt(o.high));
          this.positions.set(`${topic}:${o.partition}`, BigInt(this.opts.tail ? o.high : o.low));
          this.lags.set(`${topic}:${o.partition}`, this.opts.tail ? 0 : Number(BigInt(o.high) - BigInt(o.low)));
        }
      }
    } finally {
      await admin.disconnect();
    }
    // No consumer group: a replica owns its positions, so it joins nothing and leaves nothing behind.
    const reader = new PartitionReader({
      kafka, log, readCommitted: true, maxWaitMs: 100, maxBytesPerPartition: 4 * 1024 * 1024,
      partitions: [...this.startEnds.keys()].map((id) => {
        const at = id.lastIndexOf(':');
        // A tail starts where the partitions end now (the watermark topic too: W comes every second).
        return { topic: id.slice(0, at), partition: Number(id.slice(at + 1)), from: this.opts.tail ? this.startEnds.get(id) as bigint : 'earliest' as const };
      }),
    });
    this.reader = reader;
    this.running = reader.run(async (batch) => {
      for (const m of batch.messages) await this.apply(batch.topic, batch.partition, m.offset, m.key, m.value);
      this.lags.set(`${batch.topic}:${batch.partition}`, Math.max(0, Number(batch.highWatermark - batch.nextOffset)));
      this.advance(batch.topic, batch.partition, batch.nextOffset);
    }, { until: 'live' }).catch((e: unknown) => log.error({ err: String(e) }, 'replica reader stopped'));
    this.checkReady();
  }

  async stop(): Promise<void> {
    const reader = this.reader;
    this.reader = null;
    if (!reader) return;
    await reader.stop();
    await this.running;
  }

  private async apply(topic: string, partition: number, offset: string, key: Buffer | null, value: Buffer | null): Promise<void> {
    const isRoom = topic === topicName('roomSnapshot', this.opts.prefix);
    const k = key?.toString() ?? '';
    try {
      if (topic === topicName('watermark', this.opts.prefix)) {
        this.applyWatermark(partition, k, value === null ? null : await this.opts.serde.decode('watermark', value));
      } else if (isRoom) {
        const next = value === null ? null : roomViewFromSnapshot(await this.opts.serde.decode('roomSnapshot', value));
        const previous = this.rooms.get(k) ?? null;
        if (next === null) this.rooms.delete(k);
        else this.rooms.set(k, next);
        this.opts.onUpdate?.({ kind: 'room', key: k, previous, next });
      } else if (this.opts.tail) {
        if (!this.opts.tail.follows(k)) return; // not decoded: the point of a tail
        const next = value === null ? null : viewFromSnapshot(await this.opts.serde.decode('snapshot', value));
        this.opts.onUpdate?.({ kind: 'user', key: k, previous: null, next });
      } else {
        const next = value === null ? null : viewFromSnapshot(await this.opts.serde.decode('snapshot', value));
        const previous = this.users.get(k) ?? null;
        if (next === null) this.users.delete(k);
        else this.users.set(k, next);
        this.opts.onUpdate?.({ kind: 'user', key: k, previous, next });
      }
    } catch (e) {
      if (e instanceof RegistryUnavailableError) throw e; // retried by kafkajs: the snapshot is fine
      this.opts.log.warn({ topic, partition, offset, err: String(e) }, 'skipping an undecodable snapshot');
      this.opts.onUndecodable?.(topic, partition, offset, e);
    }
  }

  /** Keeps the highest W per partition (replays and an owner with a slower clock never lower it). */
  private applyWatermark(kafkaPartition: number, key: string, value: Parameters<typeof watermarkFromRecord>[0] | null): void {
    if (value === null) {
      const p = Number(key);
      if (!this.watermarks.delete(p)) return;
      this.opts.onWatermark?.(p, null);
      return;
    }
    const { partition, watermark } = watermarkFromRecord(value, key, kafkaPartition);
    const current = this.watermarks.get(partition);
    if (current !== undefined && current >= watermark) return;
    this.watermarks.set(partition, watermark);
    this.opts.onWatermark?.(partition, watermark);
  }

  private advance(topic: string, partition: number, next: bigint): void {
    const id = `${topic}:${partition}`;
    if (next > (this.positions.get(id) ?? 0n)) this.positions.set(id, next);
    if (!this.caughtUp) this.checkReady();
  }

  private checkReady(): void {
    for (const [id, end] of this.startEnds) if ((this.positions.get(id) ?? 0n) < end) return;
    this.caughtUp = true;
    this.opts.log.info({ users: this.users.size, rooms: this.rooms.size, watermarks: this.watermarks.size }, 'snapshot replica caught up');
    this.resolveReady();
  }
}

/** Retries a call that failed with a retriable Kafka error (a partition without a known leader yet), a few times. */
async function retryRetriable<T>(call: () => Promise<T>, what: string, log: Logger, attempts = 6): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (e) {
      if (i >= attempts || (e as { retriable?: boolean }).retriable !== true) throw e;
      log.warn({ err: String(e), attempt: i, what }, 'retriable Kafka error, retrying');
      await new Promise((r) => setTimeout(r, 250 * i));
    }
  }
}
