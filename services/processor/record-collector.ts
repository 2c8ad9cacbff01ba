/**
 * The processor's record collector: sends a task's output records in order, in produce requests
 * sized under the broker's message.max.bytes, and reports where each topic-partition ended. A send
 * that fails keeps the records not yet acknowledged, so the retry sends only those (never
 * re-appending what the broker already took).
 *
 * Producers are held by a `ProducerSession`: kafkajs' idempotent producer is dead for good after
 * some errors (OUT_OF_ORDER_SEQUENCE_NUMBER after a broker failover, kafkajs issue 598), so a failed
 * send replaces the session's producer with a new one (a new producer id) before the retry.
 */
import type { Message, Producer, Transaction } from 'kafkajs';

export interface OutRecord {
  readonly topic: string;
  readonly key: string | null;
  readonly value: Buffer | string | null;
  /** Explicit partition (changelog, misrouted input re-sent); else murmur2 of the key. */
  readonly partition?: number;
}

/** Bytes of records per produce request, well under the broker's default message.max.bytes. */
const SLICE_BYTES = 512 * 1024;
/**
 * Most records per produce request (SLICE_BYTES decides first for records over ~128 B). kafkajs
 * grouped a request's records by partition in quadratic time, which kept requests at 256 records;
 * patched (infra/patches), a request's fixed cost is spread over more records: the record collector
 * measured 6.6 CPU-µs per record at 256 and 3.2 at 4,096 (test/bench/produce-cost.ts).
 */
export const SLICE_RECORDS = 4_096;

type Sender = Pick<Producer, 'sendBatch'> | Pick<Transaction, 'sendBatch'>;

/** "topic\0partition" → the offset after the last record acknowledged there. */
export type Ends = Map<string, bigint>;
export const endKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

function byTopic(records: readonly OutRecord[]): Array<{ topic: string; messages: Message[] }> {
  const grouped = new Map<string, Message[]>();
  for (const r of records) {
    let list = grouped.get(r.topic);
    if (!list) grouped.set(r.topic, (list = []));
    list.push(r.partition === undefined ? { key: r.key, value: r.value } : { key: r.key, value: r.value, partition: r.partition });
  }
  return [...grouped].map(([topic, messages]) => ({ topic, messages }));
}

function sliceEnd(records: readonly OutRecord[], from: number, maxRecords: number): number {
  let bytes = 0;
  let j = from;
  while (j < records.length && (j === from || (bytes < SLICE_BYTES && j - from < maxRecords))) {
    const r = records[j] as OutRecord;
    bytes += (typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value?.length ?? 0) + (r.key?.length ?? 0) + 64;
    j++;
  }
  return j;
}

/**
 * Longest wait for one produce request, a defence: a send that never settled would stop its task
 * with no error (a broker failover's timed-out and retried requests are where that could happen;
 * the stalls make chaos once showed turned out to be its own reader's). Past it the send counts as
 * failed: the producer is replaced and the unacknowledged slices are sent again (at least once: a
 * late success duplicates them, which versions make harmless; exactly once: the task is rebuilt).
 */
export const SEND_TIMEOUT_MS = 15_000;

export class SendTimeoutError extends Error {
  readonly code = 'SEND_TIMEOUT';
}

function withinDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SendTimeoutError(`${what}: no answer from Kafka within ${ms} ms`)), ms);
  });
  p.catch(() => undefined); // a send given up on may still fail later: not unhandled
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** A write stopped because the member may have lost its tasks (it rejoins and rebuilds them). */
export class StaleMemberError extends Error {
  readonly code = 'STALE_MEMBER';
}

/** A queue of records to send in order; what was acknowledged leaves the queue. */
export class PendingRecords {
  private records: OutRecord[] = [];
  private next = 0;

  /** `sliceRecords`: most records per produce request (the produce-cost bench varies it). */
  constructor(private readonly sliceRecords = SLICE_RECORDS) {}

  get size(): number {
    return this.records.length - this.next;
  }

  add(records: readonly OutRecord[]): void {
    if (this.next > 0 && this.next === this.records.length) {
      this.records = [];
      this.next = 0;
    }
    for (const r of records) this.records.push(r);
  }

  /**
   * Sends everything queued, slice by slice; on failure the unsent slices stay queued. `keepAlive`
   * runs between slices (at most once a second): a large flush must not starve the consumer's
   * group heartbeats, or the group drops the member mid-write.
   */
  async drain(sender: Sender, ends: Ends, keepAlive?: () => Promise<void>, mayWrite: () => boolean = () => true, sendTimeoutMs = SEND_TIMEOUT_MS): Promise<void> {
    let lastKeepAlive = Date.now();
    while (this.next < this.records.length) {
      // Checked before every slice, not only before the write: a member paused mid-write (SIGSTOP,
      // a long GC) must not send the rest when it resumes without its tasks.
      if (!mayWrite()) throw new StaleMemberError('this member may no longer own the task: write stopped');
      if (keepAlive && Date.now() - lastKeepAlive >= 1_000) {
        await keepAlive();
        lastKeepAlive = Date.now();
      }
      const to = sliceEnd(this.records, this.next, this.sliceRecords);
      const slice = this.records.slice(this.next, to);
      const meta = await withinDeadline(sender.sendBatch({ topicMessages: byTopic(slice), acks: -1 }), sendTimeoutMs, `sending ${slice.length} records`);
      const counts = new Map<string, number>();
      for (const r of slice) if (r.partition !== undefined) counts.set(endKey(r.topic, r.partition), (counts.get(endKey(r.topic, r.partition)) ?? 0) + 1);
      for (const m of meta) {
        if (m.baseOffset === undefined) continue;
        const key = endKey(m.topicName, m.partition);
        // Keyed records' counts per partition are not known here; the base offset is a lower bound.
        const end = BigInt(m.baseOffset) + BigInt(counts.get(key) ?? 1);
        if (end > (ends.get(key) ?? -1n)) ends.set(key, end);
      }
      this.next = to;
    }
    this.records = [];
    this.next = 0;
  }

  clear(): void {
    this.records = [];
    this.next = 0;
  }
}

