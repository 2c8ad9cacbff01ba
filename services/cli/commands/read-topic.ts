/**
 * Reading a whole topic without a consumer group, for tail and dlq: the group-less PartitionReader
 * (services/platform/partition-reader.ts) over every partition, so the CLI commits nothing and
 * leaves no group behind on the broker. Records come in offset order per partition; `onRecord`
 * says when to stop (enough printed); Ctrl-C stops a live read too.
 */
import type { KafkaMessage } from 'kafkajs';
import type { TopicRole } from '../../contract/topics';
import { PartitionReader } from '../../platform/partition-reader';
import type { CommandContext } from './context';

export interface ReadTopicOptions {
  readonly role: TopicRole;
  readonly from: 'earliest' | 'latest';
  /** 'end': what the topic holds now; 'live': then follow until stopped. */
  readonly until: 'end' | 'live';
  /** Called once every partition reached the end offsets read at start. */
  readonly onCaughtUp?: (topic: string, partitions: number) => void;
  /** Return 'stop' to end the read after this record. */
  readonly onRecord: (partition: number, message: KafkaMessage) => Promise<'more' | 'stop'> | 'more' | 'stop';
}

export async function readTopic(ctx: CommandContext, o: ReadTopicOptions): Promise<void> {
  const c = ctx.connections();
  const topic = c.topic(o.role);
  const partitions = await c.partitions(o.role);
  const reader = new PartitionReader({ kafka: c.kafka, partitions: partitions.map((partition) => ({ topic, partition, from: o.from })), maxWaitMs: 500 });
  let done = false;
  const stop = () => {
    done = true;
    void reader.stop(); // not awaited here: stop() waits for the batch in hand, which may be the caller
  };
  void ctx.interrupted.then(stop);
  try {
    await reader.run(async (batch) => {
      for (const m of batch.messages) {
        if (done) return;
        if ((await o.onRecord(batch.partition, m)) === 'stop') return stop();
      }
    }, { until: o.until, onCaughtUp: () => o.onCaughtUp?.(topic, partitions.length) });
  } finally {
    await reader.stop();
  }
}
