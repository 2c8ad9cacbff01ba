/**
 * The task manager: one slot per assigned partition number, each with its task, its writer, a lock
 * that serialises its batches, timer ticks and checkpoints, and its restore. On assignment, new
 * partitions are paused, restored and resumed; partitions no longer assigned are dropped; a task
 * whose exactly-once transaction failed is rebuilt from its last checkpoint (restore again, input
 * sought back to the committed offsets).
 */
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { PresenceConfig } from '../core';
import type { Logger } from '../platform/log';
import type { ProcessorMetrics } from './metrics';
import { idempotentProducer, ProducerSession } from '../platform/producer-session';
import type { OutRecord } from './record-collector';
import { restoreTask, type RestoreContext } from './task-restore';
import { PresenceTask, type PresenceTaskOptions } from './task';
import { TaskWriter, type OutputTopics } from './task-writer';

export interface TaskSlot {
  readonly task: PresenceTask;
  readonly writer: TaskWriter;
  restored: Promise<void>;
  isRestored: boolean;
  /** Serialises batches, timer ticks and checkpoints of one partition. */
  lock: Promise<void>;
  /** Set when the partition was revoked or the slot replaced: nothing may write for it any more. */
  dropped: boolean;
  /** Exactly-once: the task's own transactional producer. */
  readonly ownProducer: ProducerSession | null;
  /** No retry of a failed write before this instant (backoff). */
  retryAt: number;
  failures: number;
  /**
   * Catching up: its last batch ended far behind the partition's end. Snapshots are then deferred
   * to the next checkpoint (or the batch that reaches the end), so a backlog that repeats a key is
   * written once per key, like Kafka Streams' record cache.
   */
  catchingUp: boolean;
  /**
   * Input topics with records past the group's committed offset when the task was restored: until
   * each reaches its end, the task is treated as catching up, so the replay does not re-emit views
   * older than the ones readers hold (when the previous owner had told readers more after its
   * checkpoint), and its timers do not expire sessions whose heartbeats are waiting in that backlog
   * (a handover longer than the offline threshold read every user Offline for a moment).
   */
  readonly replaying: Set<string>;
  /**
   * Journal steps of batches whose outputs a catching-up task deferred: sent, in order, ahead of the
   * task's next send (its flush or checkpoint), not one produce request per batch.
   */
  readonly journalBacklog: OutRecord[];
}

export interface TaskManagerOptions {
  readonly kafka: Kafka;
  readonly consumer: Consumer;
  readonly cfg: PresenceConfig;
  readonly taskOptions?: PresenceTaskOptions;
  readonly restore: RestoreContext;
  readonly topics: OutputTopics;
  readonly inputTopics: readonly string[];
  readonly groupId: string;
  readonly prefix: string;
  readonly guarantee: 'at-least-once' | 'exactly-once';
  /** At-least-once: the processor's shared producer. */
  readonly sharedProducer: ProducerSession | null;
  readonly log: Logger;
  readonly metrics: ProcessorMetrics;
  readonly clock: () => number;
  /** Whether this member may still write for a slot (not dropped, in touch with its group). */
  readonly mayWrite: (slot: TaskSlot) => boolean;
  readonly onFlushed?: (flush: import('./task').FlushResult) => void;
  /** Restores start once it resolves (ProcessorOptions.restoreGate). */
  readonly restoreGate?: Promise<void>;
  /** A task's restore finished (its slot is restored; its replay, if any, still to come). */
  readonly onRestored?: (partition: number) => void;
}

export async function withLock<T>(slot: TaskSlot, fn: () => Promise<T>): Promise<T> {
  const prev = slot.lock;
  let release!: () => void;
  slot.lock = new Promise<void>((r) => (release = r));
  await prev;
  try {
    return await fn();
  } finally {
    release();
  }
}

export class TaskManager {
  readonly slots = new Map<number, TaskSlot>();
  private closing = false;

  constructor(private readonly o: TaskManagerOptions) {}

  transactionalId(partition: number): string {
    return `${this.o.groupId}-${this.o.prefix}task-${partition}`;
  }

  /** Applies a new assignment (the set of partition numbers this member owns now). */
  assign(assigned: Set<number>): void {
    for (const [partition, slot] of this.slots) {
      if (assigned.has(partition)) continue;
      this.drop(slot);
      this.o.log.info({ partition }, 'partition revoked: state dropped from memory');
    }
    for (const partition of assigned) if (!this.slots.has(partition)) this.open(partition, false);
  }

  /** Rebuilds a task from its last checkpoint (after a failed exactly-once transaction). */
  rebuild(slot: TaskSlot): void {
    if (slot.dropped) return;
    this.drop(slot);
    this.o.log.warn({ partition: slot.task.partition }, 'task rebuilt from its last checkpoint');
    this.open(slot.task.partition, true);
  }

  /** Drops a task this member can no longer trust it owns (fenced): the next assignment reopens it. */
  abandon(slot: TaskSlot): void {
    if (slot.dropped) return;
    this.drop(slot);
    this.o.log.warn({ partition: slot.task.partition }, 'task dropped: this member was fenced or lost touch with its group');
  }

  /** The processor is stopping: restores that are waiting to retry give up. */
  beginClose(): void {
    this.closing = true;
  }

  private drop(slot: TaskSlot): void {
    slot.dropped = true;
    if (this.slots.get(slot.task.partition) === slot) this.slots.delete(slot.task.partition);
    void withLock(slot, async () => {
      await slot.writer.abandon();
      await slot.ownProducer?.close();
    });
  }

  private open(partition: number, seekToCommitted: boolean): void {
    const { kafka, consumer, cfg, guarantee, clock } = this.o;
    const task = new PresenceTask(partition, cfg, this.o.taskOptions);
    const ownProducer = guarantee === 'exactly-once' ? new ProducerSession(idempotentProducer(kafka, this.transactionalId(partition)), this.o.log, { transactionalId: this.transactionalId(partition) }) : null;
    const producers = ownProducer ?? (this.o.sharedProducer as ProducerSession);
    let slotRef: TaskSlot | null = null;
    const writer = new TaskWriter({
      task, topics: this.o.topics, serde: this.o.restore.serde, store: this.o.restore.store, consumer,
      groupId: this.o.groupId, guarantee, producers, clock, mayWrite: () => slotRef !== null && this.o.mayWrite(slotRef),
      ...(this.o.onFlushed ? { onFlushed: this.o.onFlushed } : {}),
    });
    const slot: TaskSlot = slotRef = { task, writer, restored: Promise.resolve(), isRestored: false, lock: Promise.resolve(), dropped: false, ownProducer, retryAt: 0, failures: 0, catchingUp: false, replaying: new Set(), journalBacklog: [] };
    this.slots.set(partition, slot);
    const paused = this.o.inputTopics.map((topic) => ({ topic, partitions: [partition] }));
    consumer.pause(paused);
    const restoreOnce = async () => {
      await this.o.restoreGate;
      if (slot.dropped) return;
      // initTransactions fences any zombie using this task's transactional id and aborts its open
      // transaction before we read the changelog, so the restore sees only committed state.
      await ownProducer?.producer();
      const { marker } = await restoreTask(this.o.restore, task, clock);
      writer.seedEnds(this.o.topics.snapshot, marker?.snapshotEnd ?? null);
      writer.seedEnds(this.o.topics.roomSnapshot, marker?.roomSnapshotEnd ?? null);
      for (const topic of await this.positionInputs(partition, marker?.inputs ?? {}, seekToCommitted)) slot.replaying.add(topic);
      if (slot.replaying.size > 0) this.o.log.info({ partition, replaying: [...slot.replaying] }, 'replaying the inputs past the checkpoint as catching up');
      slot.catchingUp = slot.replaying.size > 0; // timers too wait until the replay is through
      slot.isRestored = true;
      this.o.onRestored?.(partition);
    };
    slot.restored = withLock(slot, () => this.restoreUntilDone(slot, restoreOnce)).then(() => {
      if (!slot.dropped) consumer.resume(paused);
    });
    slot.restored.catch(() => undefined);
  }

  /**
   * Restores until it succeeds or the task is dropped. A restore fails when a broker is away (no
   * leader during an election, a refused connection); it is idempotent (it reloads the same entries
   * into the task), so it is simply run again. Given up once, the partition stayed paused for good.
   */
  private async restoreUntilDone(slot: TaskSlot, restoreOnce: () => Promise<void>): Promise<void> {
    for (let attempt = 1; !slot.dropped && !this.closing; attempt++) {
      try {
        await restoreOnce();
        return;
      } catch (e) {
        const retryInMs = Math.min(5_000, 250 * 2 ** Math.min(5, attempt - 1));
        this.o.log.error({ partition: slot.task.partition, err: String(e), attempt, retryInMs }, 'restore failed; retried');
        await new Promise((r) => setTimeout(r, retryInMs));
      }
    }
  }

  /**
   * Where the task's inputs start after a restore, and which of them have records to replay. Each
   * input starts at the group's committed offset, or at the restored checkpoint's offset when that
   * is older: a restore that found an older checkpoint than the group's commit (a local store or a
   * changelog read that ends behind it) replays the inputs since it instead of losing them. A
   * defence: the chaos run that suggested it was the harness reusing a prefix, not this.
   * `seek`: position the consumer even at the committed offset (a rebuild: kafkajs is elsewhere).
   */
  private async positionInputs(partition: number, checkpoint: Readonly<Record<string, string>>, seek: boolean): Promise<string[]> {
    const admin: Admin = this.o.kafka.admin();
    await admin.connect();
    try {
      const committed = await admin.fetchOffsets({ groupId: this.o.groupId, topics: [...this.o.inputTopics] });
      const replaying: string[] = [];
      for (const topic of this.o.inputTopics) {
        const end = BigInt((await admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition)?.high ?? '0');
        const at = committed.find((t) => t.topic === topic)?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
        const start = inputStart(at, checkpoint[topic]);
        if (start.behindCommit) this.o.log.warn({ partition, topic, committed: at, checkpoint: checkpoint[topic] }, 'the restored checkpoint is older than the committed offset: replaying the inputs from the checkpoint');
        if (seek || start.behindCommit) this.o.consumer.seek({ topic, partition, offset: start.offset.toString() });
        if (end > start.offset) replaying.push(topic);
      }
      return replaying;
    } finally {
      await admin.disconnect();
    }
  }

  keys(): number {
    let n = 0;
    for (const s of this.slots.values()) n += s.task.size;
    return n;
  }

  compactKeys(): number {
    let n = 0;
    for (const s of this.slots.values()) n += s.task.compactCount;
    return n;
  }

  timersPending(): number {
    let n = 0;
    for (const s of this.slots.values()) n += s.task.deadlines.size;
    return n;
  }
}

/**
 * Where one input starts after a restore: the group's committed offset (`-1`: none, the beginning)
 * or, when older, the restored checkpoint's (undefined: a marker from before checkpoints held it).
 */
export function inputStart(committed: string, checkpoint: string | undefined): { offset: bigint; behindCommit: boolean } {
  const commit = committed === '-1' ? 0n : BigInt(committed);
  if (checkpoint === undefined || BigInt(checkpoint) >= commit) return { offset: commit, behindCommit: false };
  return { offset: BigInt(checkpoint), behindCommit: true };
}
