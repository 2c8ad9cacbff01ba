/**
 * The processor's Kafka edge: a consumer group over the heartbeat, override and room topics, one
 * PresenceTask per assigned partition number (task-manager.ts), written by its TaskWriter in two
 * cadences: outputs per batch and per timer tick, checkpoints (changelog, store, input offsets)
 * every commit interval. See task-writer.ts for the crash semantics of each guarantee.
 *
 * A member only writes while it can be sure it still owns its tasks: never for a dropped slot, and
 * never once its last successful group heartbeat is older than the session timeout allows (a member
 * paused past its session timeout has lost its tasks; it finds out at its next heartbeat and
 * rejoins, and meanwhile neither its batches nor its timers write).
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { PresenceConfig } from '../core';
import { partitionCounts, checkCoPartitioning } from '../contract/provision';
import { RegistryUnavailableError, SerdeError, type AvroSerde } from '../contract/serde';
import { topicName, type TopicRole } from '../contract/topics';
import { watermarkMessage } from '../contract/watermark-codec';
import type { Logger } from '../platform/log';
import { assignmentWarning, coPartitionedAssigner } from './assigner';
import { GatewayLeases } from './gateway-leases';
import { batchApplier } from './apply-batch';
import { batchStep, journalRecord, tickStep, type JournaledInput } from './journal';
import type { ProcessorMetrics } from './metrics';
import { idempotentProducer, ProducerSession } from '../platform/producer-session';
import { ProgressWatch } from './progress-watch';
import { StaleMemberError } from './record-collector';
import type { PartitionStore } from './store';
import type { PresenceTask } from './task';
import { SettleCollection } from './settle-collection';
import { TaskManager, withLock, type TaskSlot } from './task-manager';
import { startTimers } from './timers';

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
   * How often each task checkpoints (changelog + store + input offsets); a key touched many times
   * in between is written once. Default 5 s at-least-once, 100 ms exactly-once (outputs become
   * visible to read_committed readers at each checkpoint).
   */
  commitIntervalMs?: number;
  /**
   * Most bytes fetched per partition (one batch). Larger batches mean fewer round trips per record
   * and, when a backlog repeats keys, fewer snapshots (one per key per batch).
   */
  fetchMaxBytesPerPartition?: number;
  /** Batches of different tasks processed at once (each task has its own lock). */
  partitionsConcurrently?: number;
  /** Group session timeout: how long a crashed member keeps its partitions. Default 30 s. */
  sessionTimeoutMs?: number;
  /**
   * A task whose batch ends more than this many records before the partition's end is catching up:
   * its snapshots, changes and checkpoint wait for the batch that reaches the end or for
   * `catchUpIntervalMs`, so a backlog that repeats keys writes each once (intermediate views of a
   * backlog are never emitted). Default 20,000.
   */
  catchUpLagRecords?: number;
  /** PresenceTaskOptions.compactQuietMs (default 60 s). */
  compactQuietMs?: number;
  /** Longest a catching-up task defers its outputs and checkpoint. Default 60 s. */
  catchUpIntervalMs?: number;
  /** SettleCollection: one full collection when the tasks settle after a restore or catch-up. Default true. */
  collectWhenSettled?: boolean;
  /** How often each task writes its watermark (presence.processor-watermark.v1). Default 1 s. */
  watermarkIntervalMs?: number;
  /** A partition with input waiting and no batch for this long makes the member unhealthy. Default 60 s. */
  stallAfterMs?: number;
  clock?: () => number;
  /**
   * Awaited once, after the consumer connected and just before it joins the group. Stream threads
   * join one at a time through it (see stream-threads.ts).
   */
  beforeJoin?: () => Promise<void>;
  /** Told each assignment's partitions (stream threads report theirs to the main thread). */
  onAssignment?: (partitions: readonly number[]) => void;
  /**
   * Restores wait for it (stream threads: until every thread of the process holds its share, so no
   * thread restores tasks that the next thread's join moves away again).
   */
  restoreGate?: Promise<void>;
  /** Group heartbeat interval; default min(3 s, session timeout / 3). A rebalance is noticed at the next heartbeat. */
  heartbeatIntervalMs?: number;
  /** Called once when the consumer crashed for good; the process should exit non-zero. */
  onFatal?: (error: unknown) => void;
}

export interface ProcessorHealth {
  /** False once the consumer crashed for good. */
  readonly alive: boolean;
  /** Milliseconds since the last successful group heartbeat (or join). */
  readonly sinceGroupContactMs: number;
  readonly partitions: number[];
  /** Owned partitions with input waiting and no progress for longer than stallAfterMs. */
  readonly stalledPartitions: readonly number[];
}

export interface Processor {
  /** True once every assigned partition is restored, the consumer runs and the group answers. */
  ready(): boolean;
  /** False when the consumer crashed for good or the member lost contact with its group. */
  healthy(): boolean;
  health(): ProcessorHealth;
  assigned(): number[];
  task(partition: number): PresenceTask | undefined;
  stop(): Promise<void>;
}

const INPUT_ROLES: readonly TopicRole[] = ['heartbeat', 'override', 'room'];

/** A producer fenced by a newer one with its transactional id (or its epoch is stale). */
function isFencing(e: unknown): boolean {
  const type = (e as { type?: string } | null)?.type ?? '';
  return type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED' || /fenced|old epoch/i.test(String(e));
}

/**
 * Defaults of the fetch size and concurrency (PROCESSOR_FETCH_MAX_BYTES_PER_PARTITION,
 * PROCESSOR_PARTITIONS_CONCURRENTLY). At full bench size 4 MiB bought 6% throughput for 20-25% more
 * resident memory at catch-up, so the default stays at kafkajs' 1 MiB. A second task in flight
 * overlaps one task's round trips with another's work.
 */
export const DEFAULT_FETCH_MAX_BYTES_PER_PARTITION = 1024 * 1024;
export const DEFAULT_PARTITIONS_CONCURRENTLY = 2;
export const DEFAULT_WATERMARK_INTERVAL_MS = 1_000;
export const DEFAULT_CATCH_UP_LAG_RECORDS = 20_000;
/** Default of ProcessorOptions.stallAfterMs. */
const DEFAULT_STALL_AFTER_MS = 60_000;
/** A replay after a restore has reached its input's end (see TaskSlot.replaying) at this lag. */
const REPLAY_CAUGHT_UP_LAG = 100;
export const DEFAULT_CATCH_UP_INTERVAL_MS = 60_000;
export const DEFAULT_COMMIT_INTERVAL_MS = { 'at-least-once': 5_000, 'exactly-once': 100 } as const;

export async function startProcessor(opts: ProcessorOptions): Promise<Processor> {
  const { kafka, serde, store, cfg, log, metrics, prefix, groupId, guarantee } = opts;
  const clock = opts.clock ?? Date.now;
  const sessionTimeoutMs = opts.sessionTimeoutMs ?? 30_000;
  const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? Math.min(3_000, Math.floor(sessionTimeoutMs / 3));
  const commitIntervalMs = opts.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS[guarantee];
  const catchUpLagRecords = opts.catchUpLagRecords ?? DEFAULT_CATCH_UP_LAG_RECORDS;
  const catchUpIntervalMs = Math.max(commitIntervalMs, opts.catchUpIntervalMs ?? DEFAULT_CATCH_UP_INTERVAL_MS);
  const topics = {
    snapshot: topicName('snapshot', prefix), roomSnapshot: topicName('roomSnapshot', prefix), roomChanges: topicName('roomChanges', prefix), changes: topicName('changes', prefix),
    changelog: topicName('storeChangelog', prefix), dlq: topicName('dlq', prefix),
  };
  const inputTopics = INPUT_ROLES.map((r) => topicName(r, prefix));
  const roleOf = new Map<string, TopicRole>(INPUT_ROLES.map((r) => [topicName(r, prefix), r]));

  const watermarkTopic = topicName('watermark', prefix);
  const journalTopic = topicName('journal', prefix);
  const admin = kafka.admin();
  await admin.connect();
  let counts: Record<string, number>;
  let watermarks: boolean;
  let journaling: boolean;
  try {
    counts = await partitionCounts(admin, [...inputTopics, topics.changelog, topics.snapshot, topics.roomSnapshot, topics.roomChanges]);
    checkCoPartitioning(counts, prefix);
    const existing = await admin.listTopics();
    watermarks = existing.includes(watermarkTopic);
    journaling = existing.includes(journalTopic);
  } finally {
    await admin.disconnect();
  }
  if (!watermarks && cfg.snapshotLeases === 'watermark') {
    throw new Error(`PRESENCE_SNAPSHOT_LEASES=watermark needs the topic ${watermarkTopic}: run provisioning`);
  }
  if (!watermarks) log.warn({ topic: watermarkTopic }, 'no watermark topic: readers rely on per-user snapshot leases alone');
  if (!journaling) log.warn({ topic: journalTopic }, 'no journal topic: a rebuild of this run replays on stream time, not exactly');
  /** The journal record of one step (journal.ts), or nothing without the topic. */
  const journal = (entry: Parameters<typeof journalRecord>[2]) => (journaling ? [journalRecord(serde, journalTopic, entry)] : []);
  const applyBatch = batchApplier({ serde, cfg, log, metrics, clock, partitionsOf: (topic) => counts[topic] as number, releaseApplied: true });

  const fetchBytes = opts.fetchMaxBytesPerPartition ?? DEFAULT_FETCH_MAX_BYTES_PER_PARTITION;
  const sharedProducer = guarantee === 'at-least-once' ? new ProducerSession(idempotentProducer(kafka), log) : null;
  await sharedProducer?.producer();
  // What this member's store holds, told to the assignor at each join: held at start, plus every
  // task assigned since (its checkpoints land here).
  const localTasks = new Set(await store.held());
  const consumer: Consumer = kafka.consumer({
    groupId, partitionAssigners: [coPartitionedAssigner(() => [...localTasks])], maxWaitTimeInMs: 50, readUncommitted: false,
    maxBytesPerPartition: fetchBytes, maxBytes: 8 * fetchBytes, sessionTimeout: sessionTimeoutMs, heartbeatInterval: heartbeatIntervalMs,
  });
  const onFlushed = (flush: import('./task').FlushResult) => {
    metrics.snapshots.inc({ topic: 'snapshot' }, flush.snapshots.length);
    metrics.snapshots.inc({ topic: 'roomSnapshot' }, flush.roomSnapshots.length);
    const transitions = new Map<string, number>();
    for (const c of flush.changes) {
      const key = `${c.value.to}\u0000${c.value.cause}`;
      transitions.set(key, (transitions.get(key) ?? 0) + 1);
    }
    for (const [key, n] of transitions) {
      const [to, cause] = key.split('\u0000') as [string, string];
      metrics.transitions.inc({ to, cause }, n);
    }
  };
  const settle = new SettleCollection({
    enabled: opts.collectWhenSettled ?? true, log,
    busy: () => [...tasks.slots.values()].some((s) => !s.isRestored || s.catchingUp),
  });
  const tasks = new TaskManager({
    kafka, consumer, cfg, topics, inputTopics, groupId, prefix, guarantee, sharedProducer, log, metrics, clock,
    mayWrite: (slot) => mayWrite(slot), onFlushed, onRestored: (partition) => settle.restored(partition, tasks.slots.get(partition)?.catchingUp ?? false), ...(opts.restoreGate ? { restoreGate: opts.restoreGate } : {}),
    ...(opts.compactQuietMs === undefined ? {} : { taskOptions: { compactQuietMs: opts.compactQuietMs } }),
    restore: { kafka, serde, store, topics, log, metrics },
  });
  let running = true;
  let crashed = false;
  // Group contact: a member may write only while its membership cannot have expired.
  let lastGroupContact = clock();
  const contactFresh = () => clock() - lastGroupContact < sessionTimeoutMs - heartbeatIntervalMs;
  const mayWrite = (slot: TaskSlot) => running && !slot.dropped && contactFresh();

  consumer.on(consumer.events.HEARTBEAT, () => (lastGroupContact = clock()));
  let memberId: string | null = null;
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    // A member that was dropped from the group (paused past its session timeout) rejoins with a new
    // member id: others may have owned its partitions meanwhile, so what it holds is stale even for
    // partitions it gets back. Every task is rebuilt from the checkpoints and snapshots.
    const lost = memberId !== null && (payload.memberId !== memberId || !contactFresh());
    memberId = payload.memberId;
    lastGroupContact = clock();
    if (lost) {
      log.warn({ memberId }, 'this member lost its tasks while out of touch with the group: rebuilding every task');
      tasks.assign(new Set());
    }
    const assigned = new Set<number>();
    for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
      if (roleOf.has(topic)) for (const p of partitions) assigned.add(p);
    }
    for (const p of assigned) localTasks.add(p);
    opts.onAssignment?.([...assigned].sort((a, b) => a - b));
    log.info({ generation: payload.groupId, partitions: [...assigned].sort((a, b) => a - b) }, 'assignment');
    const warning = assignmentWarning({ groupId, memberId: payload.memberId, memberAssignment: payload.memberAssignment, partitionCounts: Object.fromEntries(inputTopics.map((t) => [t, counts[t] ?? 0])) });
    if (warning) log.warn({ groupId, memberId: payload.memberId }, warning);
    tasks.assign(assigned);
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) {
      log.warn({ err: String(payload.error) }, 'consumer crashed; kafkajs restarts it');
      return;
    }
    crashed = true;
    log.error({ err: String(payload.error) }, 'consumer crashed for good; the processor cannot make progress');
    opts.onFatal?.(payload.error);
  });

  /**
   * A failed write. A member that may have lost its tasks (fenced, or out of touch with its group)
   * stops writing for the task and waits for the group: rebuilding would re-initialise the task's
   * transactional id and fence the real owner. Otherwise: back off, replace the producer (unless the
   * registry was the problem) and, exactly-once, rebuild the task from its last checkpoint.
   */
  async function writeFailed(slot: TaskSlot, e: unknown, what: string): Promise<void> {
    slot.failures++;
    slot.retryAt = clock() + Math.min(5_000, 100 * 2 ** Math.min(6, slot.failures));
    if (e instanceof StaleMemberError || isFencing(e)) {
      log.warn({ partition: slot.task.partition, err: String(e) }, `${what} stopped: this member may no longer own the task`);
      await slot.writer.abandon();
      if (guarantee === 'exactly-once') tasks.abandon(slot);
      return;
    }
    if (e instanceof RegistryUnavailableError) {
      log.warn({ partition: slot.task.partition, err: String(e), failures: slot.failures }, `${what} waits for the schema registry`);
      return;
    }
    log.error({ partition: slot.task.partition, err: String(e), failures: slot.failures }, `${what} failed; retried`);
    await slot.writer.failed(e);
    if (guarantee === 'exactly-once') tasks.rebuild(slot);
  }

  /** withLock, sending group heartbeats every second while the lock is held by someone else. */
  async function lockKeepingAlive(slot: TaskSlot, keepAlive: () => Promise<void>, fn: () => Promise<void>): Promise<void> {
    let acquired = false;
    const done = withLock(slot, async () => {
      acquired = true;
      await fn();
    });
    while (!acquired) {
      await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, 1_000))]);
      if (!acquired) await keepAlive();
    }
    await done;
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
    const slot = tasks.slots.get(batch.partition);
    const role = roleOf.get(batch.topic);
    if (!slot || !role || batch.messages.length === 0) return;
    await waitRestored(slot, heartbeat);
    const timer = metrics.batchSeconds.startTimer({ source: 'input' });
    // Group heartbeats go out only between batches or from inside one: while this batch waits for
    // its task (a timer's checkpoint may hold it for seconds) and while it writes, it sends them.
    const keepAlive = () => heartbeat().catch(() => undefined);
    await lockKeepingAlive(slot, keepAlive, async () => {
      // Backing off after a failed write: wait here (heartbeating) rather than have kafkajs
      // fetch the same batch again at once.
      while (clock() < slot.retryAt && mayWrite(slot) && !isStale()) {
        await new Promise((r) => setTimeout(r, Math.min(1_000, slot.retryAt - clock())));
        await keepAlive();
      }
      // Revoked, replaced or out of touch with the group: the owner replays these records.
      if (!mayWrite(slot) || isStale()) return;
      const now = clock();
      let catchUpEnded = false;
      try {
        const from = (batch.messages[0] as { offset: string }).offset; // read before applyBatch releases the records
        const { dlq, rerouted } = await applyBatch(slot.task, batch.topic, batch.partition, batch.messages, role, now);
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        const wasCatchingUp = slot.catchingUp;
        const lag = Number(batch.offsetLag());
        metrics.inputLag.set({ topic: role, partition: String(batch.partition) }, lag);
        if (lag <= REPLAY_CAUGHT_UP_LAG && slot.replaying.delete(batch.topic)) {
          log.info({ partition: batch.partition, topic: batch.topic, lag, stillReplaying: [...slot.replaying] }, 'replay after restore reached the end of the topic');
        }
        slot.catchingUp = lag > catchUpLagRecords || slot.replaying.size > 0;
        if (wasCatchingUp !== slot.catchingUp) log.info({ partition: batch.partition, catchingUp: slot.catchingUp, lag }, slot.catchingUp ? 'catching up' : 'caught up');
        if (slot.catchingUp) settle.began(batch.partition);
        catchUpEnded = wasCatchingUp && !slot.catchingUp;
        // The catch-up's garbage is garbage only once the emit and checkpoint below are through.
        if (catchUpEnded) settle.ending(batch.partition);
        const interval = slot.catchingUp ? catchUpIntervalMs : commitIntervalMs;
        const checkpointNow = catchUpEnded || clock() - slot.writer.lastCheckpointAt >= interval;
        // Caught up: snapshots go out with the batch. Catching up: with the next checkpoint.
        const emitNow = !slot.catchingUp || checkpointNow;
        slot.journalBacklog.push(...journal(batchStep(batch.partition, role as JournaledInput, from, next, now, emitNow)));
        // A deferring batch with nothing else to send keeps its step for the next send (no request of its own).
        const sends = emitNow || dlq.length > 0 || rerouted.length > 0;
        const steps = sends ? slot.journalBacklog.splice(0) : [];
        await slot.writer.emit(emitNow ? now : null, dlq, [...steps, ...rerouted], { topic: batch.topic, next }, keepAlive);
        slot.failures = 0;
        resolveOffset(batch.lastOffset()); // advances kafkajs' fetch position; the commit is the checkpoint's
        progress.moved(batch.partition, batch.topic, next);
        if (checkpointNow && mayWrite(slot)) await slot.writer.checkpoint(keepAlive);
      } catch (e) {
        if (e instanceof SerdeError || !(e instanceof Error)) throw e;
        // Unresolved: kafkajs fetches these records again; the task already holds them (idempotent).
        await writeFailed(slot, e, 'batch write');
      } finally {
        if (catchUpEnded) settle.ended(batch.partition);
      }
    });
    timer();
    metrics.timersPending.set(tasks.timersPending());
    metrics.keys.set(tasks.keys());
  }

  const progress = new ProgressWatch({
    kafka, inputTopics, groupId, stallAfterMs: opts.stallAfterMs ?? DEFAULT_STALL_AFTER_MS, clock, log, assigned: () => [...tasks.slots.keys()],
  });
  await consumer.connect();
  for (const topic of inputTopics) await consumer.subscribe({ topic, fromBeginning: true });
  await opts.beforeJoin?.();
  await consumer.run({ eachBatchAutoResolve: false, autoCommit: false, partitionsConsumedConcurrently: opts.partitionsConcurrently ?? DEFAULT_PARTITIONS_CONCURRENTLY, eachBatch: handleBatch });

  // Gateway leases (gateway-leases.ts): null without the topic.
  const gatewayLeases = await GatewayLeases.start({ kafka, serde, prefix, log, clock, onEnded: (n) => metrics.events.inc({ kind: 'gateway-lease-expired' }, n) });
  progress.start();
  const timers = startTimers({
    gatewayLeases,
    tasks, resolutionMs: opts.timerResolutionMs, commitIntervalMs, catchUpIntervalMs, clock, metrics, mayWrite, writeFailed,
    watermarkIntervalMs: watermarks ? (opts.watermarkIntervalMs ?? DEFAULT_WATERMARK_INTERVAL_MS) : null,
    journalRecord: journaling ? (entry) => journalRecord(serde, journalTopic, entry) : null,
    watermarkRecord: (partition, watermark, now) => {
      const m = watermarkMessage(serde, partition, watermark, now);
      return { topic: watermarkTopic, key: String(partition), value: m.value, partition: m.partition };
    },
  });

  return {
    ready: () => running && !crashed && contactFresh() && progress.stalled().length === 0 && [...tasks.slots.values()].every((s) => s.isRestored),
    healthy: () => running && !crashed && contactFresh() && progress.stalled().length === 0,
    health: () => ({
      alive: !crashed, sinceGroupContactMs: clock() - lastGroupContact, partitions: [...tasks.slots.keys()].sort((a, b) => a - b), stalledPartitions: progress.stalled(),
    }),
    assigned: () => [...tasks.slots.keys()].sort((a, b) => a - b),
    task: (p) => tasks.slots.get(p)?.task,
    async stop() {
      tasks.beginClose();
      await progress.stop();
      await timers.stop();
      await gatewayLeases?.stop();
      // The last checkpoint of every task, then leave the group.
      for (const slot of tasks.slots.values()) {
        await withLock(slot, async () => {
          if (!slot.isRestored || !mayWrite(slot)) return;
          const now = clock();
          slot.task.fireDue(now);
          const flushes = slot.task.pending > 0;
          const steps = [...slot.journalBacklog.splice(0), ...(flushes ? journal(tickStep(slot.task.partition, now)) : [])];
          await slot.writer.emit(flushes ? now : null, [], steps, null)
            .then(() => slot.writer.checkpoint()).catch((e: unknown) => log.warn({ partition: slot.task.partition, err: String(e) }, 'final checkpoint failed; the next owner replays from the previous one'));
        });
      }
      running = false;
      await consumer.disconnect();
      for (const slot of tasks.slots.values()) {
        await slot.lock;
        await slot.writer.abandon();
        await slot.ownProducer?.close();
      }
      await sharedProducer?.close();
      await store.close();
    },
  };
}
