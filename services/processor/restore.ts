/**
 * Reads partitions of one or more topics from a start offset to the end offset read at the start:
 * the store changelog (restoring a task's state) and the snapshot topics (what readers were told
 * after the last checkpoint). kafkajs has no manual assignment, so a throwaway consumer group
 * subscribes, seeks, and filters. "Done" means the fetch position reached the end offset — for a
 * transactional topic the last offset is a commit marker, which kafkajs never hands to eachBatch
 * but reports through END_BATCH_PROCESS, so both feed the position.
 */
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Logger } from '../platform/log';

export interface RestoreRequest {
  readonly topic: string;
  readonly partition: number;
  /** First offset to read (the local store's position, or "0"). */
  readonly from: string;
}

export interface RestoreProgress {
  readonly records: number;
  readonly total: number;
  readonly ratePerSecond: number;
}

const slotOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** Reads every request's range; returns the position reached per request ("topic\0partition"). */
export async function readPartitionRanges(opts: {
  kafka: Kafka;
  groupIdBase: string;
  requests: readonly RestoreRequest[];
  onRecord: (topic: string, partition: number, key: string, value: Buffer | null, offset: string) => void;
  onProgress?: (p: RestoreProgress) => void;
  log: Logger;
  progressEveryMs?: number;
}): Promise<Map<string, string>> {
  const { kafka, requests, log } = opts;
  const topics = [...new Set(requests.map((r) => r.topic))];
  const ends = new Map<string, bigint>();
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const topic of topics) for (const o of await admin.fetchTopicOffsets(topic)) ends.set(slotOf(topic, o.partition), BigInt(o.high));
  } finally {
    await admin.disconnect();
  }
  const position = new Map<string, bigint>();
  const from = new Map<string, bigint>();
  const wanted = new Set<string>();
  let total = 0n;
  for (const r of requests) {
    const slot = slotOf(r.topic, r.partition);
    const end = ends.get(slot) ?? 0n;
    position.set(slot, BigInt(r.from));
    from.set(slot, BigInt(r.from));
    if (BigInt(r.from) < end) {
      wanted.add(slot);
      total += end - BigInt(r.from);
    }
  }
  const result = () => new Map([...position].map(([s, o]) => [s, o.toString()]));
  if (wanted.size === 0) return result();

  const groupId = `${opts.groupIdBase}-restore-${randomBytes(4).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, maxBytesPerPartition: 4 * 1024 * 1024, readUncommitted: false });
  const started = Date.now();
  let records = 0;
  let lastLog = started;
  let finish!: () => void;
  let fail!: (e: unknown) => void;
  const finished = new Promise<void>((res, rej) => ((finish = res), (fail = rej)));
  const advance = (slot: string, nextOffset: bigint) => {
    if (nextOffset > (position.get(slot) ?? 0n)) position.set(slot, nextOffset);
    const done = [...wanted].every((s) => (position.get(s) ?? 0n) >= (ends.get(s) ?? 0n));
    const now = Date.now();
    if (now - lastLog >= (opts.progressEveryMs ?? 2_000) || done) {
      lastLog = now;
      const progress = { records, total: Number(total), ratePerSecond: Math.round((records * 1000) / Math.max(1, now - started)) };
      opts.onProgress?.(progress);
      log.info({ topics, ...progress, percent: total === 0n ? 100 : Math.min(100, Math.round((records * 100) / Number(total))) }, 'restoring');
    }
    if (done) finish();
  };

  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const slot = slotOf(payload.topic, payload.partition);
    if (wanted.has(slot) && payload.batchSize === 0) advance(slot, BigInt(payload.lastOffset) + 1n);
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => fail(payload.error));

  try {
    await consumer.connect();
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        const slot = slotOf(batch.topic, batch.partition);
        if (!wanted.has(slot)) return;
        const start = from.get(slot) ?? 0n;
        for (const m of batch.messages) {
          if (BigInt(m.offset) < start) continue;
          records++;
          opts.onRecord(batch.topic, batch.partition, m.key?.toString() ?? '', m.value, m.offset);
        }
        advance(slot, BigInt(batch.lastOffset()) + 1n);
      },
    });
    for (const r of requests) {
      if (wanted.has(slotOf(r.topic, r.partition))) consumer.seek({ topic: r.topic, partition: r.partition, offset: r.from });
    }
    for (const topic of topics) {
      const others = [...ends.keys()].filter((s) => s.startsWith(`${topic}\u0000`) && !wanted.has(s)).map((s) => Number(s.split('\u0000')[1]));
      if (others.length) consumer.pause([{ topic, partitions: others }]);
    }
    await finished;
  } finally {
    await consumer.disconnect();
    const cleanup = kafka.admin();
    await cleanup.connect();
    await cleanup.deleteGroups([groupId]).catch(() => undefined);
    await cleanup.disconnect();
  }
  log.info({ topics, slots: wanted.size, records, ms: Date.now() - started }, 'restored');
  return result();
}

export const positionOf = (positions: Map<string, string>, topic: string, partition: number): string | undefined => positions.get(slotOf(topic, partition));
