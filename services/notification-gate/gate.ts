/**
 * The notification gate's Kafka edge: a full replica of presence.snapshot.v1 and, once that has
 * caught up, a consumer group over notification.request.v1 writing one notification.decision.v1
 * record per request (keyed by userId) or one presence.dlq.v1 record per bad request.
 *
 * Per batch of one partition, at-least-once:
 *   1. decode each record (a serde failure → a DLQ record), decide it with `decideRequest` against
 *      the replica's current view of the recipient, the watermark of its partition and the clock
 *      (a rejection → a DLQ record);
 *   2. send the decisions and DLQ records and await the acks of all in-sync replicas;
 *   3. commit the offset after the batch.
 * A crash (or a lost group membership) between 2 and 3 decides the batch again on restart: a second
 * decision for the same requestId, possibly with a different outcome if the status changed
 * meanwhile. Downstream deduplicates by requestId (the first decision wins, or the latest: its choice).
 */
import type { Consumer, EachBatchPayload, Kafka, Message } from 'kafkajs';
import type { ChannelClasses, PresenceConfig } from '../core';
import type { DeadLetter, NotificationDecision } from '../contract/avro-types';
import { SerdeError, type AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import type { Logger } from '../platform/log';
import { idempotentProducer, ProducerSession } from '../platform/producer-session';
import { SnapshotReplica } from '../platform/snapshot-replica';
import { deadLetter, decideRequest, type GateRejection, type SourceRecord } from './decide';
import { createGateMetrics, type GateMetrics } from './metrics';

export interface NotificationGateOptions {
  readonly kafka: Kafka;
  readonly serde: AvroSerde;
  readonly prefix: string;
  /** Consumer group of the request topic; also the base of the replica's throwaway group id. */
  readonly groupId: string;
  /** Thresholds for reading status from snapshots: the processor's. */
  readonly cfg: PresenceConfig;
  readonly classes: ChannelClasses;
  readonly log: Logger;
  /** A replica to use instead of building one (tests hold its readiness); the gate starts and stops it. */
  readonly replica?: GateReplica;
  /** Group session timeout: how long a crashed member keeps its partitions. Default 30 s. */
  readonly sessionTimeoutMs?: number;
  readonly clock?: () => number;
  /** Called once when the request consumer crashed for good; the process should exit non-zero. */
  readonly onFatal?: (error: unknown) => void;
}

/** What the gate needs of its snapshot replica (a SnapshotReplica; without watermarkOf: no watermarks). */
export type GateReplica = Pick<SnapshotReplica, 'users' | 'whenReady' | 'ready' | 'lag' | 'start' | 'stop'> &
  Partial<Pick<SnapshotReplica, 'watermarkOf'>>;

export interface NotificationGate {
  readonly replica: GateReplica;
  readonly metrics: GateMetrics;
  /** True once the replica caught up and requests are being consumed (and until stop or a crash). */
  ready(): boolean;
  /** False once the request consumer crashed for good. */
  healthy(): boolean;
  /** Starts the replica, waits until it caught up, then joins the request group. Idempotent. */
  start(): Promise<void>;
  /** Finishes the running batch (written and committed), leaves the group, stops the replica. */
  stop(): Promise<void>;
}

type Outcome =
  | { readonly ok: true; readonly decision: NotificationDecision; readonly requestedAt: number; readonly value: Buffer }
  | { readonly ok: false; readonly rejection: GateRejection };

/** Records per produce request (decisions are ~100 bytes; dead letters carry the original record). */
const SEND_SLICE = 500;

export function createNotificationGate(o: NotificationGateOptions): NotificationGate {
  const { kafka, serde, prefix, groupId, cfg, classes, log } = o;
  const clock = o.clock ?? Date.now;
  const topics = { request: topicName('notificationRequest', prefix), decision: topicName('notificationDecision', prefix), dlq: topicName('dlq', prefix) };

  const replica: GateReplica = o.replica ?? new SnapshotReplica({
    kafka, serde, prefix, rooms: false, log: log.child({ component: 'replica' }), groupIdBase: groupId,
    onUndecodable: () => m.undecodableSnapshots.inc(),
  });
  const m: GateMetrics = createGateMetrics({ lag: () => replica.lag(), ready: () => replica.ready(), users: () => replica.users.size });

  // Replaced after a failed send: a broker failover can leave an idempotent producer dead for good.
  const producers = new ProducerSession(idempotentProducer(kafka), log, { component: 'gate-producer' });
  let sendFailures = 0;
  const sessionTimeout = o.sessionTimeoutMs ?? 30_000;
  const consumer: Consumer = kafka.consumer({
    groupId, maxWaitTimeInMs: 100, readUncommitted: false, sessionTimeout, heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeout / 3)),
  });
  let consuming = false;
  let crashed = false;
  let stopping = false;
  let started: Promise<void> | null = null;
  let stopped: Promise<void> | null = null;
  let wakeStop!: () => void;
  const stopRequested = new Promise<void>((r) => (wakeStop = r));

  /** Decodes and decides one record; throws only for what is not the record's fault. */
  async function outcomeOf(source: SourceRecord): Promise<Outcome> {
    try {
      const req = await serde.decode('notificationRequest', source.value);
      const decided = decideRequest(req, replica.users.get(req.userId), clock(), cfg, classes, replica.watermarkOf?.(req.userId) ?? null);
      if (!decided.ok) return decided;
      return { ok: true, decision: decided.decision, requestedAt: req.requestedAt, value: await serde.encode('notificationDecision', decided.decision) };
    } catch (e) {
      if (!(e instanceof SerdeError)) throw e;
      return { ok: false, rejection: { code: e.code, field: null, reason: e.message } };
    }
  }

  async function handleBatch({ batch, resolveOffset, heartbeat, isStale }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0 || isStale()) return;
    const timer = m.batchSeconds.startTimer();
    const decisions: Array<{ decision: NotificationDecision; requestedAt: number; message: Message }> = [];
    const dead: DeadLetter[] = [];
    for (const msg of batch.messages) {
      const source: SourceRecord = { topic: batch.topic, partition: batch.partition, offset: msg.offset, key: msg.key, value: msg.value };
      const outcome = await outcomeOf(source);
      if (outcome.ok) {
        decisions.push({ decision: outcome.decision, requestedAt: outcome.requestedAt, message: { key: outcome.decision.userId, value: outcome.value } });
      } else {
        const { code, field, reason } = outcome.rejection;
        log.warn({ topic: batch.topic, partition: batch.partition, offset: msg.offset, code, field, reason }, 'dead-lettered');
        dead.push(deadLetter(source, outcome.rejection, clock()));
      }
    }
    if (isStale()) return; // revoked meanwhile: the new owner decides these requests
    const dlqMessages = await Promise.all(dead.map(async (d) => ({ key: null, value: await serde.encode('dlq', d) })));
    // In slices, so one produce request stays far below the broker's message.max.bytes however
    // large the fetched batch was; all are acknowledged before the commit.
    const outputs = [
      ...decisions.map((d) => ({ topic: topics.decision, message: d.message })),
      ...dlqMessages.map((message) => ({ topic: topics.dlq, message })),
    ];
    for (let i = 0; i < outputs.length; i += SEND_SLICE) {
      const byTopic = new Map<string, Message[]>();
      for (const { topic, message } of outputs.slice(i, i + SEND_SLICE)) {
        const list = byTopic.get(topic) ?? [];
        list.push(message);
        byTopic.set(topic, list);
      }
      if (!(await sent([...byTopic].map(([topic, messages]) => ({ topic, messages }))))) return; // unresolved: fetched and decided again
    }
    const next = (BigInt(batch.lastOffset()) + 1n).toString();
    await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
    resolveOffset(batch.lastOffset()); // advances kafkajs' fetch position; the commit was ours
    for (const { decision, requestedAt } of decisions) {
      m.decisions.inc({ reason: decision.reason, deliver: String(decision.deliver) });
      m.requestAge.observe(Math.max(0, decision.decidedAt - requestedAt) / 1000);
    }
    for (const d of dead) m.dlq.inc({ code: d.errorCode });
    timer();
    await heartbeat();
  }

  /**
   * One produce request; false after a failure, with the producer replaced and a backoff (so a
   * broker that is down is not hammered). The batch is then left unresolved: kafkajs fetches it
   * again and it is decided again, which the at-least-once contract above allows.
   */
  async function sent(topicMessages: Array<{ topic: string; messages: Message[] }>): Promise<boolean> {
    const { producer, generation } = await producers.producer();
    try {
      await producer.sendBatch({ topicMessages, acks: -1 });
      sendFailures = 0;
      return true;
    } catch (e) {
      sendFailures++;
      m.sendFailures.inc();
      log.error({ err: String(e), failures: sendFailures }, 'sending decisions failed; the batch is decided again');
      await producers.replace(generation, e);
      await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** Math.min(6, sendFailures))));
      return false;
    }
  }

  async function run(): Promise<void> {
    await replica.start();
    await Promise.race([replica.whenReady, stopRequested]);
    if (stopping) return;
    log.info({ users: replica.users.size }, 'replica caught up; consuming requests');
    await producers.producer(); // connected before the first batch, so a broker that is down fails the start
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return void log.warn({ err: String(payload.error) }, 'request consumer crashed; kafkajs restarts it');
      crashed = true;
      log.error({ err: String(payload.error) }, 'request consumer crashed for good; the gate cannot decide');
      o.onFatal?.(payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topic: topics.request, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: handleBatch });
    consuming = true;
  }

  async function shutdown(): Promise<void> {
    stopping = true;
    wakeStop();
    await started?.catch(() => undefined);
    consuming = false;
    await consumer.disconnect();
    await producers.close();
    await replica.stop();
  }

  return {
    replica,
    metrics: m,
    ready: () => consuming && !stopping && !crashed && replica.ready(),
    healthy: () => !crashed,
    start: () => (started ??= run()),
    stop: () => (stopped ??= shutdown()),
  };
}
