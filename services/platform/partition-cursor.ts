/**
 * A pull cursor over one topic-partition, from a start to the end offset read when it (re)starts:
 * the group-less PartitionReader pushes batches into a bounded buffer (its handler waits while the
 * buffer is full, so memory stays bounded however long the log), and the caller takes records one
 * by one in offset order. Used by the rebuild, which must interleave several partitions in an
 * order the data decides (the journal), not the fetch.
 */
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from './log';
import { PartitionReader } from './partition-reader';

/** Default of the buffered records at which the reader waits for the caller. */
const DEFAULT_BUFFER = 5_000;

export class PartitionCursor {
  private buffer: KafkaMessage[] = [];
  private head = 0;
  private done = false;
  private failure: unknown = null;
  private reader: PartitionReader | null = null;
  private running: Promise<void> = Promise.resolve();
  private wakeTaker: (() => void) | null = null;
  private wakeReader: (() => void) | null = null;
  private closing = false;
  /** The offset after the last record taken (or the start). */
  private next: bigint | null = null;

  constructor(
    private readonly o: { kafka: Kafka; topic: string; partition: number; log?: Logger; buffer?: number },
    from: bigint | 'earliest' = 'earliest',
  ) {
    this.open(from);
  }

  get topic(): string {
    return this.o.topic;
  }

  /** The offset after the last record taken; null before the first when started at 'earliest'. */
  get position(): bigint | null {
    return this.next;
  }

  /** The next record without taking it; null once the end (read at the last start) is reached. */
  async peek(): Promise<KafkaMessage | null> {
    for (;;) {
      if (this.head < this.buffer.length) return this.buffer[this.head] as KafkaMessage;
      if (this.failure !== null) throw this.failure;
      if (this.done) return null;
      await new Promise<void>((r) => (this.wakeTaker = r));
    }
  }

  /** Takes the next record (after a peek that returned one). */
  async take(): Promise<KafkaMessage | null> {
    const m = await this.peek();
    if (m === null) return null;
    this.head++;
    this.next = BigInt(m.offset) + 1n;
    if (this.head >= 1_024 && this.head * 2 >= this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
    if (this.buffered < (this.o.buffer ?? DEFAULT_BUFFER)) this.wakeReader?.();
    return m;
  }

  /** Takes every record below `end`, in order. */
  async takeBelow(end: bigint): Promise<KafkaMessage[]> {
    const out: KafkaMessage[] = [];
    for (let m = await this.peek(); m !== null && BigInt(m.offset) < end; m = await this.peek()) out.push((await this.take()) as KafkaMessage);
    return out;
  }

  /** Starts again at `from` (a range read twice: a retried batch). */
  async seek(from: bigint): Promise<void> {
    await this.stopReader();
    this.open(from);
  }

  async close(): Promise<void> {
    await this.stopReader();
  }

  private get buffered(): number {
    return this.buffer.length - this.head;
  }

  private open(from: bigint | 'earliest'): void {
    this.buffer = [];
    this.head = 0;
    this.done = false;
    this.failure = null;
    this.closing = false;
    this.next = from === 'earliest' ? null : from;
    const reader = new PartitionReader({ kafka: this.o.kafka, partitions: [{ topic: this.o.topic, partition: this.o.partition, from }], maxWaitMs: 100, ...(this.o.log ? { log: this.o.log } : {}) });
    this.reader = reader;
    const limit = this.o.buffer ?? DEFAULT_BUFFER;
    this.running = reader.run(async (batch) => {
      for (const m of batch.messages) this.buffer.push(m);
      this.wakeTaker?.();
      while (this.buffered >= limit && !this.closing) await new Promise<void>((r) => (this.wakeReader = r));
    }, { until: 'end' }).then(
      () => void (this.done = true),
      (e: unknown) => void (this.failure = e),
    ).finally(() => this.wakeTaker?.());
  }

  private async stopReader(): Promise<void> {
    this.closing = true;
    this.wakeReader?.();
    await this.reader?.stop();
    await this.running;
    this.reader = null;
  }
}
