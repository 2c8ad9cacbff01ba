import type { ProducerBatch, RecordMetadata } from 'kafkajs';
import { PendingRecords, SendTimeoutError, StaleMemberError, type Ends, type OutRecord } from './record-collector';

const records = (n: number): OutRecord[] => Array.from({ length: n }, (_, i) => ({ topic: 't', key: `k${i}`, value: Buffer.from(`v${i}`), partition: 0 }));

/** A sender that acknowledges every slice, counting the records it was given. */
function acking() {
  const sent: string[] = [];
  let offset = 0;
  return {
    sent,
    sendBatch: async (b: ProducerBatch): Promise<RecordMetadata[]> => {
      const messages = (b.topicMessages ?? []).flatMap((t) => t.messages);
      for (const m of messages) sent.push(String(m.key));
      const meta: RecordMetadata[] = [{ topicName: 't', partition: 0, errorCode: 0, baseOffset: String(offset) }];
      offset += messages.length;
      return meta;
    },
  };
}

describe('PendingRecords.drain', () => {
  it('a send that never settles fails within the deadline; the retry sends only what was not acknowledged', async () => {
    const queue = new PendingRecords(256);
    queue.add(records(600)); // three slices of at most 256 records
    const ends: Ends = new Map();
    const ok = acking();
    let calls = 0;
    const hangsOnSecond = { sendBatch: (b: ProducerBatch) => (++calls === 2 ? new Promise<RecordMetadata[]>(() => undefined) : ok.sendBatch(b)) };
    const started = Date.now();
    await expect(queue.drain(hangsOnSecond, ends, undefined, () => true, 50)).rejects.toBeInstanceOf(SendTimeoutError);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(ok.sent).toHaveLength(256);
    expect(queue.size).toBe(600 - 256);
    await queue.drain(ok, ends);
    expect(ok.sent).toEqual(records(600).map((r) => r.key));
    expect(queue.size).toBe(0);
    expect(ends.get('t\u00000')).toBe(600n);
  });

  it('stops before a slice when the member may no longer write, keeping the rest queued', async () => {
    const queue = new PendingRecords(256);
    queue.add(records(300));
    const ok = acking();
    let allowed = 1;
    await expect(queue.drain(ok, new Map(), undefined, () => allowed-- > 0)).rejects.toBeInstanceOf(StaleMemberError);
    expect(ok.sent).toHaveLength(256);
    expect(queue.size).toBe(44);
  });
});
