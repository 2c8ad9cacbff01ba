/**
 * Pre-fills the heartbeat topic with N heartbeats as fast as kafkajs allows: large sendBatch calls,
 * a few in flight, no compression (kafkajs' only built-in codec is gzip, which would cost the
 * producer more CPU than it saves on a local broker).
 */
import type { Kafka, Message } from 'kafkajs';
import type { HeartbeatEncoder } from './encoder';
import type { Population } from './population';

export interface PrefillResult {
  readonly records: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
}

export async function prefill(opts: {
  kafka: Kafka;
  topic: string;
  population: Population;
  encoder: HeartbeatEncoder;
  count: number;
  onProgress?: (done: number) => void;
}): Promise<PrefillResult> {
  const { kafka, topic, population, encoder, count } = opts;
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const started = Date.now();
  const BATCH = 10_000;
  const IN_FLIGHT = 4;
  let bytes = 0;
  const inFlight = new Set<Promise<unknown>>();
  let lastReport = started;
  try {
    for (let base = 0; base < count; base += BATCH) {
      const now = Date.now();
      const messages: Message[] = [];
      for (let i = base; i < Math.min(count, base + BATCH); i++) {
        const hb = population.backlogHeartbeat(i, now);
        const value = encoder.encode(hb);
        bytes += value.length;
        messages.push({ key: hb.userId, value });
      }
      const p = producer.sendBatch({ topicMessages: [{ topic, messages }], acks: -1 }).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
      if (opts.onProgress && now - lastReport > 5_000) {
        lastReport = now;
        opts.onProgress(base + messages.length);
      }
    }
    await Promise.all(inFlight);
  } finally {
    await producer.disconnect();
  }
  const seconds = (Date.now() - started) / 1000;
  return { records: count, bytes, seconds, eventsPerSecond: Math.round(count / seconds) };
}
