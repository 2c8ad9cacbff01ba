/**
 * Restores partitions of the store changelog: reads each from a start position to the end offset
 * read at the start. kafkajs has no manual assignment, so a throwaway consumer group subscribes,
 * seeks, and filters. "Restored" means the fetch position reached the end offset — for a
 * transactional changelog the last offset is a commit marker, which kafkajs never hands to
 * eachBatch but reports through END_BATCH_PROCESS, so both feed the position.
 */
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Logger } from '../platform/log';

export interface RestoreRequest {
  readonly partition: number;
  /** First changelog offset to read (the local store's position, or "0"). */
  readonly from: string;
}

export interface RestoreProgress {
  readonly records: number;
  readonly total: number;
  readonly ratePerSecond: number;
}

export async function restoreChangelog(opts: {
  kafka: Kafka;
  topic: string;
  groupIdBase: string;
  requests: readonly RestoreRequest[];
  onRecord: (partition: number, key: string, value: string | null, offset: string) => void;
  onProgress?: (p: RestoreProgress) => void;
  log: Logger;
  progressEveryMs?: number;
}): Promise<Map<number, string>> {
  const { kafka, topic, requests, log } = opts;
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
  const position = new Map<number, bigint>();
  const wanted = new Set<number>();
  let total = 0n;
  for (const r of requests) {
    const end = ends.get(r.partition) ?? 0n;
    position.set(r.partition, BigInt(r.from));
    if (BigInt(r.from) < end) {
      wanted.add(r.partition);
      total += end - BigInt(r.from);
    }
  }
  const result = () => new Map([...position].map(([p, o]) => [p, o.toString()]));
  if (wanted.size === 0) return result();

  const groupId = `${opts.groupIdBase}-restore-${randomBytes(4).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, maxBytesPerPartition: 4 * 1024 * 1024, readUncommitted: false });
  const started = Date.now();
  let records = 0;
  let lastLog = started;
  let finish!: () => void;
  let fail!: (e: unknown) => void;
  const finished = new Promise<void>((res, rej) => ((finish = res), (fail = rej)));
  const advance = (partition: number, nextOffset: bigint) => {
    if (nextOffset > (position.get(partition) ?? 0n)) position.set(partition, nextOffset);
    const done = [...wanted].every((p) => (position.get(p) ?? 0n) >= (ends.get(p) ?? 0n));
    const now = Date.now();
    if (now - lastLog >= (opts.progressEveryMs ?? 2_000) || done) {
      lastLog = now;
      const progress = { records, total: Number(total), ratePerSecond: Math.round((records * 1000) / Math.max(1, now - started)) };
      opts.onProgress?.(progress);
      log.info({ topic, ...progress, percent: total === 0n ? 100 : Math.min(100, Math.round((records * 100) / Number(total))) }, 'restoring changelog');
    }
    if (done) finish();
  };

  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic === topic && wanted.has(payload.partition) && payload.batchSize === 0) {
      advance(payload.partition, BigInt(payload.lastOffset) + 1n);
    }
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => fail(payload.error));

  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        const from = BigInt(requests.find((r) => r.partition === batch.partition)?.from ?? '0');
        if (!wanted.has(batch.partition)) return;
        for (const m of batch.messages) {
          if (BigInt(m.offset) < from) continue;
          records++;
          opts.onRecord(batch.partition, m.key?.toString() ?? '', m.value === null ? null : m.value.toString(), m.offset);
        }
        advance(batch.partition, BigInt(batch.lastOffset()) + 1n);
      },
    });
    for (const r of requests) {
      if (wanted.has(r.partition)) consumer.seek({ topic, partition: r.partition, offset: r.from });
    }
    const others = [...ends.keys()].filter((p) => !wanted.has(p));
    if (others.length) consumer.pause([{ topic, partitions: others }]);
    await finished;
  } finally {
    await consumer.disconnect();
    const cleanup = kafka.admin();
    await cleanup.connect();
    await cleanup.deleteGroups([groupId]).catch(() => undefined);
    await cleanup.disconnect();
  }
  log.info({ topic, partitions: [...wanted], records, ms: Date.now() - started }, 'changelog restored');
  return result();
}
