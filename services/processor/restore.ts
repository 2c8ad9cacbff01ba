/**
 * Reads partitions of one or more topics from a start offset to the end offset read at the start:
 * the store changelog (restoring a task's state) and the snapshot topics (what readers were told
 * after the last checkpoint), with the group-less PartitionReader. "Done" means the position
 * reached the end offset read at the start; a transactional topic's last offset is a commit marker,
 * which the reader's position moves past.
 */
import type { Kafka } from 'kafkajs';
import type { Logger } from '../platform/log';
import { PartitionReader, topicPartitionKey as slotOf } from '../platform/partition-reader';

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


/** Reads every request's range; returns the position reached per request ("topic\0partition"). */
export async function readPartitionRanges(opts: {
  kafka: Kafka;
  requests: readonly RestoreRequest[];
  onRecord: (topic: string, partition: number, key: string, value: Buffer | null, offset: string) => void;
  /** After each fetched batch's records: the position after them (awaited before the next batch of the partition). */
  onBatchEnd?: (topic: string, partition: number, nextOffset: bigint) => Promise<void>;
  onProgress?: (p: RestoreProgress) => void;
  log: Logger;
  progressEveryMs?: number;
}): Promise<Map<string, string>> {
  const { kafka, requests, log } = opts;
  const topics = [...new Set(requests.map((r) => r.topic))];
  // No consumer group: nothing to join (seconds with kafkajs), nothing left behind on the broker.
  const reader = new PartitionReader({
    kafka, log, readCommitted: true, maxWaitMs: 100, maxBytesPerPartition: 4 * 1024 * 1024,
    partitions: requests.map((r) => ({ topic: r.topic, partition: r.partition, from: BigInt(r.from) })),
  });
  const started = Date.now();
  const totals = new Map<string, number>();
  let records = 0;
  let lastLog = started;
  const report = (force: boolean) => {
    const now = Date.now();
    if (!force && now - lastLog < (opts.progressEveryMs ?? 2_000)) return;
    lastLog = now;
    const total = [...totals.values()].reduce((a, b) => a + b, 0);
    const progress = { records, total, ratePerSecond: Math.round((records * 1000) / Math.max(1, now - started)) };
    opts.onProgress?.(progress);
    log.info({ topics, ...progress, percent: total === 0 ? 100 : Math.min(100, Math.round((records * 100) / total)) }, 'restoring');
  };
  try {
    await reader.run(async (b) => {
      const slot = slotOf(b.topic, b.partition);
      if (!totals.has(slot)) {
        const from = BigInt(requests.find((r) => r.topic === b.topic && r.partition === b.partition)?.from ?? '0');
        totals.set(slot, Math.max(0, Number(b.highWatermark - from)));
      }
      for (const m of b.messages) {
        records++;
        opts.onRecord(b.topic, b.partition, m.key?.toString() ?? '', m.value, m.offset);
      }
      report(false);
      if (opts.onBatchEnd) await opts.onBatchEnd(b.topic, b.partition, b.nextOffset);
    }, { until: 'end' });
  } finally {
    await reader.stop();
  }
  report(true);
  log.info({ topics, partitions: requests.length, records, ms: Date.now() - started }, 'restored');
  const positions = new Map<string, string>();
  for (const r of requests) positions.set(slotOf(r.topic, r.partition), r.from);
  for (const [slot, p] of reader.positions()) if (p.offset >= 0n) positions.set(slot, p.offset.toString());
  return positions;
}

export const positionOf = (positions: Map<string, string>, topic: string, partition: number): string | undefined => positions.get(slotOf(topic, partition));
