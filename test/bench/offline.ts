/**
 * Offline detection delay: users send one heartbeat each and fall silent; each should read Offline
 * on the snapshot topic at (heartbeat + offline threshold). We measure how long after that instant
 * the Offline snapshot reaches a consumer (what readers experience) and, from the snapshot's
 * emittedAt, when the processor's timer decided it.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import type { AvroSerde } from '../../services/contract/serde';
import { topicName } from '../../services/contract/topics';
import type { BenchConfig } from './config';
import { distribution, sleep, type Distribution } from './measure';
import { Population } from './population';
import { startProcessorChild, type Thresholds } from './services';

/** Shortened thresholds for the idle offline-detection run (the demo uses 15 s offline, 30 s away). */
export const OFFLINE_THRESHOLDS: Thresholds = { PRESENCE_HEARTBEAT_INTERVAL_MS: '2000', PRESENCE_OFFLINE_AFTER_MS: '6000', PRESENCE_AWAY_AFTER_MS: '30000' };

export interface OfflineResult {
  readonly users: number;
  readonly offlineAfterMs: number;
  /** Offline snapshot received by a consumer, minus (last heartbeat + threshold). */
  readonly visibleDelayMs: Distribution;
  /** The snapshot's emittedAt minus (last heartbeat + threshold): the processor's timer alone. */
  readonly emittedDelayMs: Distribution;
  readonly missing: number;
}

export async function offlineDetection(o: {
  kafka: Kafka; serde: AvroSerde; prefix: string; groupId: string; population: Population;
  offlineAfterMs: number; staggerMs: number; timeoutMs: number;
}): Promise<OfflineResult> {
  const { kafka, serde, prefix, population } = o;
  const label = population.userIdPrefix;
  const deadlineOf = new Map<string, number>();
  const visible: number[] = [];
  const emitted: number[] = [];
  let allSeen!: () => void;
  const seen = new Promise<void>((r) => (allSeen = r));

  // Joined before the heartbeats go out, reading from the end: the topic may hold a lot already.
  const consumer = kafka.consumer({ groupId: `${o.groupId}-${randomBytes(3).toString('hex')}`, maxWaitTimeInMs: 20, readUncommitted: false });
  const joined = new Promise<void>((r) => consumer.on(consumer.events.GROUP_JOIN, () => r()));
  await consumer.connect();
  await consumer.subscribe({ topic: topicName('snapshot', prefix), fromBeginning: false });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const at = Date.now();
      for (const m of batch.messages) {
        const key = m.key?.toString() ?? '';
        // Only our users are decoded: under load the topic carries thousands of others per second.
        if (!key.startsWith(label)) continue;
        const deadline = deadlineOf.get(key);
        if (deadline === undefined) continue;
        const s = await serde.decode('snapshot', m.value);
        if (s.status !== 'Offline') continue;
        deadlineOf.delete(key);
        visible.push(at - deadline);
        emitted.push(s.emittedAt - deadline);
        if (deadlineOf.size === 0) allSeen();
      }
    },
  });
  await joined;
  await sleep(500);

  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    // Spread over staggerMs so the deadlines do not all fall in one timer tick.
    const slices = Math.max(1, Math.round(o.staggerMs / 100));
    for (let s = 0; s < slices; s++) {
      const now = Date.now();
      const messages = [];
      for (let u = s; u < population.users; u += slices) {
        const hb = { ...population.heartbeatOf(u, 0, 0, now, 0), idleMs: 0 };
        deadlineOf.set(hb.userId, now + o.offlineAfterMs);
        messages.push({ key: hb.userId, value: await serde.encode('heartbeat', hb) });
      }
      await producer.send({ topic: topicName('heartbeat', prefix), messages, acks: -1 });
      await sleep(100);
    }
    await Promise.race([seen, sleep(o.staggerMs + o.offlineAfterMs + o.timeoutMs)]);
  } finally {
    await producer.disconnect();
    await consumer.disconnect();
  }
  return {
    users: population.users, offlineAfterMs: o.offlineAfterMs,
    visibleDelayMs: distribution(visible), emittedDelayMs: distribution(emitted), missing: deadlineOf.size,
  };
}

/** Offline detection on a processor with shortened thresholds and nothing else to do. */
export async function offlineIdlePhase(cfg: BenchConfig, kafka: Kafka, serde: AvroSerde, prefix: string): Promise<OfflineResult> {
  const p = await startProcessorChild(cfg, {
    name: 'processor-offline', prefix, groupId: `${cfg.runId}-offline`, guarantee: 'at-least-once',
    dataDir: join(cfg.workDir, 'store-offline'), thresholds: OFFLINE_THRESHOLDS,
  });
  try {
    await p.child.waitHttpOk(`${p.url}/readyz`, 60_000);
    return await offlineDetection({
      kafka, serde, prefix, groupId: `${cfg.runId}-offline-watch`, population: new Population(cfg.offlineUsers, `${cfg.runId}-idle-silent`),
      offlineAfterMs: Number(OFFLINE_THRESHOLDS['PRESENCE_OFFLINE_AFTER_MS']), staggerMs: 2_000, timeoutMs: 15_000,
    });
  } finally {
    await p.child.stop();
  }
}
