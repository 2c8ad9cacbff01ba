/**
 * The processor's Kafka edge: a consumer group over the heartbeat, override and room topics, one
 * PresenceTask per assigned partition number, outputs written before input offsets are committed.
 *
 * Per input batch (and per timer flush), at-least-once:
 *   1. decode + hygiene each record (failures → DLQ record), apply to the task in memory;
 *   2. send DLQ, snapshots and changes; await acks;
 *   3. send the changelog entries (which carry the views acknowledged in 2); await acks;
 *   4. write the same entries and the changelog position to LevelDB in one batch;
 *   5. commit the input offsets; then record the emitted views in memory.
 * A crash between any two steps replays input from the committed offsets against a state whose
 * `emitted` is what readers got, so no snapshot is swallowed; replays are idempotent merges.
 * Exactly-once: steps 2, 3 and 5 are one transaction with one transactional id per partition.
 */
import type { Consumer, EachBatchPayload, Kafka, Message, Producer } from 'kafkajs';
import type { PresenceConfig } from '../core';
import type { DeadLetter } from '../contract/avro-types';
import { partitionCounts, checkCoPartitioning } from '../contract/provision';
import { deadLetterOf } from '../contract/dead-letter';
import { SerdeError, type AvroSerde } from '../contract/serde';
import { topicName, type TopicRole } from '../contract/topics';
import type { Logger } from '../platform/log';
import { KeyHashPartitioner } from '../platform/partitioner';
import { CoPartitionedAssigner } from './assigner';
import { heartbeatEvent, overrideEvent, roomEvent } from './input';
import type { ProcessorMetrics } from './metrics';
import { restoreChangelog } from './restore';
import type { PartitionStore } from './store';
import { PresenceTask, type FlushResult } from './task';

export type Guarantee = 'at-least-once' | 'exactly-once';

export interface ProcessorOptions {
  kafka: Kafka;
  serde: AvroSerde;
  store: PartitionStore;
  cfg: PresenceConfig;
  log: Logger;
  metrics: ProcessorMetrics;
  prefix: string;
  groupId: string;
  guarantee: Guarantee;
  /** How often due timers are checked; bounds how late an away/offline transition can be. */
  timerResolutionMs: number;
  /**
   * Most bytes fetched per partition (one batch). Larger batches mean fewer round trips per record
   * and, when a backlog repeats keys, fewer snapshots and changelog entries (one per key per batch).
   */
  fetchMaxBytesPerPartition?: number;
  /** Batches of different tasks processed at once (each task has its own lock). */
  partitionsConcurrently?: number;
  /** Group session timeout: how long a crashed member keeps its partitions. Default 30 s. */
  sessionTimeoutMs?: number;
  clock?: () => number;
}

export interface Processor {
  /** True once every assigned partition is restored and the consumer runs. */
  ready(): boolean;
  assigned(): number[];
  task(partition: number): PresenceTask | undefined;
  stop(): Promise<void>;
}

interface TaskSlot {
  task: PresenceTask;
  restored: Promise<void>;
  isRestored: boolean;
  /** Serialises batches and timer flushes of one partition. */
  lock: Promise<void>;
  producer: Producer | null;
  dropped: boolean;
}

const INPUT_ROLES: readonly TopicRole[] = ['heartbeat', 'override', 'room'];

/**
 * Defaults of the fetch size and concurrency (PROCESSOR_FETCH_MAX_BYTES_PER_PARTITION,
 * PROCESSOR_PARTITIONS_CONCURRENTLY). Larger batches pay the batch's round trips less often and,
 * while catching up, coalesce a key's repeats, but at full bench size (2M heartbeats, 500k users)
 * 4 MiB bought 6% throughput for 20-25% more resident memory at catch-up, so the default stays at
 * kafkajs' 1 MiB. A second task in flight overlaps one task's round trips with another's work (the
 * main thread is the limit, so more buys little).
 */
export const DEFAULT_FETCH_MAX_BYTES_PER_PARTITION = 1024 * 1024;
export const DEFAULT_PARTITIONS_CONCURRENTLY = 2;

/** Bytes of records per produce request, well under the broker's default message.max.bytes. */
const SLICE_BYTES = 512 * 1024;
/**
 * Records per produce request. kafkajs groups a request's messages by partition by copying the
 * group's array for every message (quadratic in records per partition): with ~900 changelog records
 * of one partition per request that copying and its garbage were ~15% of the processor's CPU.
 */
const SLICE_RECORDS = 256;

export async function startProcessor(opts: ProcessorOptions): Promise<Processor> {
  const { kafka, serde, store, cfg, log, metrics, prefix, groupId, guarantee } = opts;
  const clock = opts.clock ?? Date.now;
  const topics = {
    heartbeat: topicName('heartbeat', prefix), override: topicName('override', prefix), room: topicName('room', prefix),
    snapshot: topicName('snapshot', prefix), roomSnapshot: topicName('roomSnapshot', prefix), changes: topicName('changes', prefix),
    changelog: topicName('storeChangelog', prefix), dlq: topicName('dlq', prefix),
  };
  const roleOf = new Map<string, TopicRole>(INPUT_ROLES.map((r) => [topicName(r, prefix), r]));

  const admin = kafka.admin();
  await admin.connect();
  try {
    checkCoPartitioning(await partitionCounts(admin, [topics.heartbeat, topics.override, topics.room, topics.changelog]), prefix);
  } finally {
    await admin.disconnect();
  }

  const fetchBytes = opts.fetchMaxBytesPerPartition ?? DEFAULT_FETCH_MAX_BYTES_PER_PARTITION;
  const sharedProducer = guarantee === 'at-least-once' ? kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: KeyHashPartitioner }) : null;
  await sharedProducer?.connect();
  const consumer: Consumer = kafka.consumer({ groupId, partitionAssigners: [CoPartitionedAssigner], maxWaitTimeInMs: 50, readUncommitted: false, maxBytesPerPartition: fetchBytes, maxBytes: 8 * fetchBytes, sessionTimeout: opts.sessionTimeoutMs ?? 30_000, heartbeatInterval: Math.min(3_000, Math.floor((opts.sessionTimeoutMs ?? 30_000) / 3)) });
  const slots = new Map<number, TaskSlot>();
  let running = true;

  const withLock = async <T>(slot: TaskSlot, fn: () => Promise<T>): Promise<T> => {
    const prev = slot.lock;
    let release!: () => void;
    slot.lock = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  };

  const transactionalId = (partition: number) => `${groupId}-${prefix}task-${partition}`;

  async function restoreSlot(partition: number, slot: TaskSlot): Promise<void> {
    if (guarantee === 'exactly-once') {
      // initTransactions fences any zombie using this partition's transactional id and aborts its
      // open transaction before we read the changelog, so the restore sees only committed state.
      slot.producer = kafka.producer({ transactionalId: transactionalId(partition), idempotent: true, maxInFlightRequests: 1, createPartitioner: KeyHashPartitioner });
      await slot.producer.connect();
    }
    const local = await store.load(partition).catch((e: unknown) => {
      log.warn({ partition, err: String(e) }, 'local store unreadable for partition; restoring from changelog alone');
      return { entries: new Map<string, string>(), changelogPosition: null };
    });
    const entries = local.entries;
    const positions = await restoreChangelog({
      kafka, topic: topics.changelog, groupIdBase: groupId, log,
      requests: [{ partition, from: local.changelogPosition ?? '0' }],
      onRecord: (_p, key, value) => {
        metrics.restoreRecords.inc();
        if (value === null) entries.delete(key);
        else entries.set(key, value);
      },
      onProgress: (p) => metrics.restoreRatio.set(p.total === 0 ? 1 : Math.min(1, p.records / p.total)),
    });
    const position = positions.get(partition) ?? '0';
    if (position !== local.changelogPosition) await store.write(partition, [...entries], position);
    slot.task.load(entries, clock());
    slot.isRestored = true;
    metrics.restoreRatio.set(1);
    log.info({ partition, keys: entries.size, changelogPosition: position, fromLocal: local.changelogPosition }, 'partition restored');
  }

  function onAssignment(assigned: Set<number>): void {
    for (const [partition, slot] of slots) {
      if (assigned.has(partition)) continue;
      slot.dropped = true;
      slots.delete(partition);
      void withLock(slot, async () => slot.producer?.disconnect());
      log.info({ partition }, 'partition revoked: state dropped from memory');
    }
    for (const partition of assigned) {
      if (slots.has(partition)) continue;
      const slot: TaskSlot = {
        task: new PresenceTask(partition, cfg), restored: Promise.resolve(), isRestored: false,
        lock: Promise.resolve(), producer: null, dropped: false,
      };
      slots.set(partition, slot);
      const paused = INPUT_ROLES.map((r) => ({ topic: topicName(r, prefix), partitions: [partition] }));
      consumer.pause(paused);
      slot.restored = withLock(slot, () => restoreSlot(partition, slot)).then(
        () => { if (!slot.dropped) consumer.resume(paused); },
        (e: unknown) => { log.error({ partition, err: String(e) }, 'restore failed'); throw e; },
      );
      slot.restored.catch(() => undefined);
    }
  }

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const assigned = new Set<number>();
    for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
      if (roleOf.has(topic)) for (const p of partitions) assigned.add(p);
    }
    log.info({ generation: payload.groupId, partitions: [...assigned].sort((a, b) => a - b) }, 'assignment');
    onAssignment(assigned);
  });

  function deadLetter(topic: string, partition: number, m: Message & { offset: string }, code: string, field: string | null, reason: string): DeadLetter {
    metrics.dlq.inc({ code });
    log.warn({ topic, partition, offset: m.offset, code, field, reason }, 'dead-lettered');
    const bytes = (b: Buffer | string | null | undefined) => (b === null || b === undefined ? null : Buffer.from(b));
    return deadLetterOf({ topic, partition, offset: m.offset, key: bytes(m.key), value: bytes(m.value) }, { code, field, reason }, 'processor', clock());
  }

  /** Writes one flush (and DLQ records, and input offsets) per the guarantee; then commits memory. */
  async function write(slot: TaskSlot, flush: FlushResult, dlq: DeadLetter[], offsets: { topic: string; offset: string } | null): Promise<void> {
    const partition = slot.task.partition;
    const outputs = [
      ...flush.snapshots.map((s) => ({ topic: topics.snapshot, key: s.key, value: serde.encodeSync('snapshot', s.value) })),
      ...flush.roomSnapshots.map((s) => ({ topic: topics.roomSnapshot, key: s.key, value: s.value && serde.encodeSync('roomSnapshot', s.value) })),
      ...flush.changes.map((c) => ({ topic: topics.changes, key: c.key, value: serde.encodeSync('changes', c.value) })),
      ...dlq.map((d) => ({ topic: topics.dlq, key: null, value: serde.encodeSync('dlq', d) })),
    ];
    const byTopic = (records: Array<{ topic: string; key: string | null; value: Buffer | string | null; partition?: number }>) => {
      const grouped = new Map<string, Message[]>();
      for (const r of records) {
        const list = grouped.get(r.topic) ?? [];
        list.push(r.partition === undefined ? { key: r.key, value: r.value } : { key: r.key, value: r.value, partition: r.partition });
        grouped.set(r.topic, list);
      }
      return [...grouped].map(([topic, messages]) => ({ topic, messages }));
    };
    // The changelog partition is the input partition: a task's state lives beside its input. Values
    // go to kafkajs as strings: it writes their UTF-8 straight into the request (no Buffer each).
    const changelog = flush.changelog.map((c) => ({ topic: topics.changelog, key: c.key, value: c.value, partition }));
    let changelogEnd: string | null = null;
    type Rec = { topic: string; key: string | null; value: Buffer | string | null; partition?: number };
    // A produce request's record batch must stay under the broker's message.max.bytes (1 MiB by
    // default), and kafkajs' grouping is quadratic in its records per partition: a large flush goes
    // out in slices, in order; the changelog end is that of the last.
    const sendSliced = async (records: Rec[], send: (b: { topicMessages: ReturnType<typeof byTopic>; acks: number }) => Promise<Array<{ topicName: string; partition: number; baseOffset?: string }>>) => {
      for (let i = 0; i < records.length;) {
        let bytes = 0;
        let j = i;
        while (j < records.length && (j === i || (bytes < SLICE_BYTES && j - i < SLICE_RECORDS))) {
          const r = records[j] as Rec;
          bytes += (typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value?.length ?? 0) + (r.key?.length ?? 0) + 64;
          j++;
        }
        const slice = records.slice(i, j);
        const meta = await send({ topicMessages: byTopic(slice), acks: -1 });
        const inSlice = slice.filter((r) => r.topic === topics.changelog).length;
        const m = meta.find((x) => x.topicName === topics.changelog && x.partition === partition);
        if (inSlice > 0 && m?.baseOffset !== undefined) changelogEnd = (BigInt(m.baseOffset) + BigInt(inSlice)).toString();
        i = j;
      }
    };

    if (guarantee === 'at-least-once') {
      const producer = sharedProducer as Producer;
      await sendSliced(outputs, (b) => producer.sendBatch(b));
      await sendSliced(changelog, (b) => producer.sendBatch(b));
      if (changelogEnd !== null) await store.write(partition, flush.changelog.map((c) => [c.key, c.value] as const), changelogEnd);
      if (offsets) await consumer.commitOffsets([{ topic: offsets.topic, partition, offset: offsets.offset }]);
    } else {
      const producer = slot.producer as Producer;
      const tx = await producer.transaction();
      try {
        await sendSliced([...outputs, ...changelog], (b) => tx.sendBatch(b));
        if (offsets) await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: offsets.topic, partitions: [{ partition, offset: offsets.offset }] }] });
        await tx.commit();
      } catch (e) {
        await tx.abort().catch(() => undefined);
        throw e;
      }
      if (changelogEnd !== null) await store.write(partition, flush.changelog.map((c) => [c.key, c.value] as const), changelogEnd);
    }
    flush.commit();
    metrics.snapshots.inc({ topic: 'snapshot' }, flush.snapshots.length);
    metrics.snapshots.inc({ topic: 'roomSnapshot' }, flush.roomSnapshots.length);
    const transitions = new Map<string, number>();
    for (const c of flush.changes) transitions.set(c.value.to, (transitions.get(c.value.to) ?? 0) + 1);
    for (const [to, n] of transitions) metrics.transitions.inc({ to }, n);
  }

  async function waitRestored(slot: TaskSlot, heartbeat: () => Promise<void>): Promise<void> {
    let done = false;
    void slot.restored.finally(() => (done = true)).catch(() => undefined);
    while (!done) {
      await heartbeat();
      await Promise.race([slot.restored.catch(() => undefined), new Promise((r) => setTimeout(r, 1_000))]);
    }
    await slot.restored;
  }

  async function handleBatch({ batch, heartbeat, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    const slot = slots.get(batch.partition);
    const role = roleOf.get(batch.topic);
    if (!slot || !role || batch.messages.length === 0) return;
    await waitRestored(slot, heartbeat);
    const timer = metrics.batchSeconds.startTimer({ source: 'input' });
    await withLock(slot, async () => {
      if (slot.dropped || isStale()) return; // revoked meanwhile: the new owner replays these records
      const now = clock();
      const dlq: DeadLetter[] = [];
      // Counted per batch: a labelled prom-client inc per record showed up in the profile.
      const applied = new Map<string, number>();
      const count = (kind: string) => applied.set(kind, (applied.get(kind) ?? 0) + 1);
      for (const m of batch.messages) {
        const key = m.key?.toString() ?? null;
        try {
          // decodeSync: no promise per record; `decode` only for a schema id seen for the first time.
          if (role === 'room') {
            const checked = roomEvent(serde.decodeSync('room', m.value) ?? await serde.decode('room', m.value), key, now, cfg);
            if (checked.ok) slot.task.applyRoom(checked.event, now);
            else dlq.push(deadLetter(batch.topic, batch.partition, m, 'rejected', checked.rejection.field, `${checked.rejection.code}: ${checked.rejection.reason}`));
            if (checked.ok) count(`room-${checked.event.type}`);
          } else {
            const checked = role === 'heartbeat'
              ? heartbeatEvent(serde.decodeSync('heartbeat', m.value) ?? await serde.decode('heartbeat', m.value), key, now, cfg)
              : overrideEvent(serde.decodeSync('override', m.value) ?? await serde.decode('override', m.value), key, now, cfg);
            if (checked.ok) slot.task.applyUser(checked.event, now);
            else dlq.push(deadLetter(batch.topic, batch.partition, m, 'rejected', checked.rejection.field, `${checked.rejection.code}: ${checked.rejection.reason}`));
            if (checked.ok) count(checked.event.type);
          }
        } catch (e) {
          if (!(e instanceof SerdeError)) throw e;
          dlq.push(deadLetter(batch.topic, batch.partition, m, e.code, null, e.message));
        }
      }
      for (const [kind, n] of applied) metrics.events.inc({ kind }, n);
      const next = (BigInt(batch.lastOffset()) + 1n).toString();
      await write(slot, slot.task.flush(now), dlq, { topic: batch.topic, offset: next });
      resolveOffset(batch.lastOffset()); // advances kafkajs' fetch position; the commit was ours
    });
    timer();
    metrics.timersPending.set([...slots.values()].reduce((n, s) => n + s.task.deadlines.size, 0));
    metrics.keys.set([...slots.values()].reduce((n, s) => n + s.task.size, 0));
  }

  await consumer.connect();
  for (const role of INPUT_ROLES) await consumer.subscribe({ topic: topicName(role, prefix), fromBeginning: true });
  await consumer.run({ eachBatchAutoResolve: false, autoCommit: false, partitionsConsumedConcurrently: opts.partitionsConcurrently ?? DEFAULT_PARTITIONS_CONCURRENTLY, eachBatch: handleBatch });

  // Timers: each task keeps one deadline per key in a heap; this loop only asks each task for its
  // earliest one, so a tick costs O(partitions + due keys).
  let timerLoop: Promise<void> | null = null;
  const ticker = setInterval(() => {
    if (timerLoop || !running) return;
    timerLoop = (async () => {
      for (const slot of slots.values()) {
        if (!slot.isRestored || slot.dropped) continue;
        const next = slot.task.deadlines.next();
        if ((next === null || next > clock()) && slot.task.pending === 0) continue; // pending: a failed flush to retry
        const timer = metrics.batchSeconds.startTimer({ source: 'timer' });
        await withLock(slot, async () => {
          if (slot.dropped) return;
          const now = clock();
          slot.task.fireDue(now);
          if (slot.task.pending > 0) await write(slot, slot.task.flush(now), [], null);
        }).catch((e: unknown) => log.error({ partition: slot.task.partition, err: String(e) }, 'timer flush failed; retried next tick'));
        timer();
      }
    })().finally(() => (timerLoop = null));
  }, opts.timerResolutionMs);

  return {
    ready: () => running && [...slots.values()].every((s) => s.isRestored),
    assigned: () => [...slots.keys()].sort((a, b) => a - b),
    task: (p) => slots.get(p)?.task,
    async stop() {
      running = false;
      clearInterval(ticker);
      await timerLoop;
      await consumer.disconnect();
      for (const slot of slots.values()) {
        await slot.lock;
        await slot.producer?.disconnect();
      }
      await sharedProducer?.disconnect();
      await store.close();
    },
  };
}
