/**
 * The write path of one task, in the two cadences of task.ts:
 *   - `emit` (per input batch and per timer tick): snapshots, changes, dead letters and re-routed
 *     input go out at once; once acknowledged, the flush is committed in memory.
 *   - `checkpoint` (every commit interval, on stop): the unsaved entries and a checkpoint marker go
 *     to the changelog, then to LevelDB with the changelog position, then the input offsets are
 *     committed.
 *
 * At-least-once: outputs use the processor's shared idempotent producer. A crash replays input from
 * the last checkpoint against the checkpointed state, and the restore reads back the snapshots
 * emitted after the checkpoint (task-restore.ts), so replayed snapshots continue above the versions
 * readers saw; replays are idempotent merges.
 * Exactly-once: one transaction per task per commit interval holds the outputs, the changelog
 * records and the input offsets (one transactional id per task: kafkajs has no KIP-447); a failed
 * transaction is aborted and the task is rebuilt from its last checkpoint (`onFenced`).
 */
import type { Consumer, Transaction } from 'kafkajs';
import type { DeadLetter } from '../contract/avro-types';
import type { AvroSerde } from '../contract/serde';
import type { ProducerSession } from '../platform/producer-session';
import { endKey, PendingRecords, type Ends, type OutRecord } from './record-collector';
import type { PartitionStore } from './store';
import type { FlushResult, PresenceTask } from './task';

export interface OutputTopics {
  readonly snapshot: string;
  readonly roomSnapshot: string;
  readonly roomChanges: string;
  readonly changes: string;
  readonly changelog: string;
  readonly dlq: string;
}

/**
 * Most keys one flush decides and sends. The end of a catch-up flushes every key the catch-up
 * touched (83,000 per task at bench size): decided, viewed and encoded at once, all of it outlived
 * the young generation (about 800 B per key) and the old generation's marking found it live. In
 * parts, each part's garbage dies young, and each part is acknowledged and committed before the
 * next is decided.
 */
export const FLUSH_PART_KEYS = 4096;

export interface TaskWriterOptions {
  readonly task: PresenceTask;
  readonly topics: OutputTopics;
  readonly serde: AvroSerde;
  readonly store: PartitionStore;
  readonly consumer: Consumer;
  readonly groupId: string;
  readonly guarantee: 'at-least-once' | 'exactly-once';
  /** The shared producer (at-least-once) or the task's transactional one (exactly-once). */
  readonly producers: ProducerSession;
  readonly clock: () => number;
  /** Whether this member may still write for the task (checked before every produce request). */
  readonly mayWrite: () => boolean;
  /** Called with each flush once it was acknowledged (metrics). */
  readonly onFlushed?: (flush: FlushResult) => void;
  /** Keys per flush part; default FLUSH_PART_KEYS. */
  readonly flushPartKeys?: number;
}

/** The output records of a flush, in the order they are sent (also the rebuild's, rebuild.ts). */
export function flushRecords(serde: AvroSerde, topics: Pick<OutputTopics, 'snapshot' | 'roomSnapshot' | 'roomChanges' | 'changes'>, flush: FlushResult): OutRecord[] {
  const records: OutRecord[] = [];
  for (const s of flush.snapshots) records.push({ topic: topics.snapshot, key: s.key, value: serde.encodeSync('snapshot', s.value) });
  for (const s of flush.roomSnapshots) records.push({ topic: topics.roomSnapshot, key: s.key, value: s.value && serde.encodeSync('roomSnapshot', s.value) });
  for (const r of flush.roomChanges) records.push({ topic: topics.roomChanges, key: r.key, value: serde.encodeSync('roomChanges', r.value) });
  for (const c of flush.changes) records.push({ topic: topics.changes, key: c.key, value: serde.encodeSync('changes', c.value) });
  return records;
}

export function deadLetterRecord(serde: AvroSerde, topics: Pick<OutputTopics, 'dlq'>, d: DeadLetter): OutRecord {
  return { topic: topics.dlq, key: null, value: serde.encodeSync('dlq', d) };
}

interface PendingCheckpoint {
  commit(): void;
  readonly entries: ReadonlyArray<readonly [string, Buffer | null]>;
  readonly positions: Map<string, string>;
}

export class TaskWriter {
  private readonly outputs = new PendingRecords();
  private readonly changelog = new PendingRecords();
  /** A flush whose records are queued in `outputs`, committed once they are acknowledged. */
  private pendingFlush: FlushResult | null = null;
  /** A checkpoint whose changelog records are queued in `changelog` (a retry resends only the rest). */
  private pendingCheckpoint: PendingCheckpoint | null = null;
  private readonly ends: Ends = new Map();
  /** Next input offset per input topic, acknowledged outputs included (committed at checkpoint). */
  private readonly positions = new Map<string, string>();
  private committedPositions = new Map<string, string>();
  private transaction: Transaction | null = null;
  private txGeneration = -1;
  lastCheckpointAt: number;

  constructor(private readonly o: TaskWriterOptions) {
    this.lastCheckpointAt = o.clock();
  }

  get partition(): number {
    return this.o.task.partition;
  }

  /** Something was written or consumed since the last checkpoint. */
  get hasUncheckpointed(): boolean {
    if (this.o.task.unsavedCount > 0 || this.transaction !== null) return true;
    for (const [topic, offset] of this.positions) if (this.committedPositions.get(topic) !== offset) return true;
    return false;
  }

  get hasPendingOutputs(): boolean {
    return this.pendingFlush !== null || this.outputs.size > 0;
  }

  /** Where a snapshot topic's partition ended as far as this writer knows (a lower bound). */
  endOf(topic: string): string | null {
    return this.ends.get(endKey(topic, this.partition))?.toString() ?? null;
  }

  /** Starts the ends from the restored checkpoint marker, so a checkpoint never moves them back. */
  seedEnds(topic: string, end: string | null): void {
    if (end !== null) this.ends.set(endKey(topic, this.partition), BigInt(end));
  }

  /**
   * Flushes the task at `flushAt` (in parts of FLUSH_PART_KEYS keys; null: no flush) and sends it,
   * dead letters and re-routed records with the last part; then records the input position.
   */
  async emit(flushAt: number | null, dlq: readonly DeadLetter[], extra: readonly OutRecord[], input: { topic: string; next: string } | null, keepAlive?: () => Promise<void>): Promise<void> {
    const { task } = this.o;
    // A flush a failed send left goes first; its commit keeps the newer state of what was applied
    // since (PresenceTask.flush).
    await this.finishPending(keepAlive);
    let last: FlushResult | null = null;
    if (flushAt !== null) {
      // In parts; the task's lock holds off every event until the last part is committed.
      const part = this.o.flushPartKeys ?? FLUSH_PART_KEYS;
      while (task.pending > part) await this.send(task.flush(flushAt, part), [], [], keepAlive);
      last = task.flush(flushAt);
    }
    await this.send(last, dlq, extra, keepAlive);
    if (input) this.positions.set(input.topic, input.next);
  }

  /** One flush's records, dead letters and extra records, acknowledged; then the flush is committed. */
  private async send(flush: FlushResult | null, dlq: readonly DeadLetter[], extra: readonly OutRecord[], keepAlive?: () => Promise<void>): Promise<void> {
    const { serde, topics } = this.o;
    const records: OutRecord[] = flush ? flushRecords(serde, topics, flush) : [];
    for (const d of dlq) records.push(deadLetterRecord(serde, topics, d));
    // Last: a watermark must not reach the broker before the snapshots it vouches for.
    for (const r of extra) records.push(r);
    this.outputs.add(records);
    this.pendingFlush = flush;
    await this.finishPending(keepAlive);
  }

  private async finishPending(keepAlive?: () => Promise<void>): Promise<void> {
    if (this.outputs.size > 0) await this.outputs.drain(await this.sender(), this.ends, keepAlive, this.o.mayWrite);
    const flush = this.pendingFlush;
    this.pendingFlush = null;
    if (flush) {
      flush.commit();
      this.o.onFlushed?.(flush);
    }
  }

  /** The unsaved entries and the marker to the changelog, then the store, then the input offsets. */
  async checkpoint(keepAlive?: () => Promise<void>): Promise<void> {
    await this.finishPending(keepAlive);
    const { task, topics, store, consumer, groupId } = this.o;
    const partition = this.partition;
    if (!this.pendingCheckpoint) {
      const result = task.checkpoint({
        at: this.o.clock(), snapshotEnd: this.endOf(topics.snapshot), roomSnapshotEnd: this.endOf(topics.roomSnapshot),
        inputs: Object.fromEntries(this.positions),
      });
      this.changelog.add(result.changelog.map((c) => ({ topic: topics.changelog, key: c.key, value: c.value, partition })));
      this.pendingCheckpoint = { commit: result.commit, entries: result.changelog.map((c) => [c.key, c.value] as const), positions: new Map(this.positions) };
    }
    const pending = this.pendingCheckpoint;
    const offsets = [...pending.positions].map(([topic, offset]) => ({ topic, partition, offset }));
    if (this.o.guarantee === 'at-least-once') {
      await this.changelog.drain(await this.sender(), this.ends, keepAlive, this.o.mayWrite);
      const end = this.ends.get(endKey(topics.changelog, partition));
      if (end !== undefined) await store.write(partition, pending.entries, end.toString());
      if (offsets.length) await consumer.commitOffsets(offsets);
    } else {
      const tx = await this.sender() as Transaction;
      await this.changelog.drain(tx, this.ends, keepAlive, this.o.mayWrite);
      if (offsets.length) {
        await tx.sendOffsets({ consumerGroupId: groupId, topics: [...pending.positions].map(([topic, offset]) => ({ topic, partitions: [{ partition, offset }] })) });
      }
      await tx.commit();
      this.transaction = null;
      const end = this.ends.get(endKey(topics.changelog, partition));
      if (end !== undefined) await store.write(partition, pending.entries, end.toString());
    }
    pending.commit();
    this.pendingCheckpoint = null;
    this.committedPositions = pending.positions;
    this.lastCheckpointAt = this.o.clock();
  }

  /** Forgets everything not yet written (the task is being dropped or rebuilt). */
  async abandon(): Promise<void> {
    this.outputs.clear();
    this.changelog.clear();
    this.pendingFlush = null;
    this.pendingCheckpoint = null;
    const tx = this.transaction;
    this.transaction = null;
    if (tx) await tx.abort().catch(() => undefined);
  }

  /** After a failed send: replace the producer (and, exactly-once, abort the transaction). */
  async failed(cause: unknown): Promise<void> {
    const { producers } = this.o;
    const { generation } = await producers.producer().catch(() => ({ generation: -1 }));
    if (this.o.guarantee === 'exactly-once') await this.abandon();
    await producers.replace(generation, cause);
  }

  private async sender(): Promise<Transaction | Awaited<ReturnType<ProducerSession['producer']>>['producer']> {
    const { producer, generation } = await this.o.producers.producer();
    if (this.o.guarantee === 'at-least-once') return producer;
    if (!this.transaction || this.txGeneration !== generation) {
      this.transaction = await producer.transaction();
      this.txGeneration = generation;
    }
    return this.transaction;
  }
}
