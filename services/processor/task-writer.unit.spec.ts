/**
 * The writer's flush in parts (emit): each part is sent and acknowledged, then committed, before
 * the next is decided; dead letters and extra records go with the last part; the input position is
 * recorded only once every part went out. The sender here is a stub that acknowledges what it gets:
 * the pipeline itself is tested against the broker (processor.int, recovery.int).
 */
import type { Consumer, Producer, ProducerBatch, RecordMetadata } from 'kafkajs';
import { DEFAULT_CONFIG } from '../core';
import { localSerde } from '../contract/local-serde';
import type { ProducerSession } from '../platform/producer-session';
import type { PartitionStore } from './store';
import { PresenceTask } from './task';
import { TaskWriter, type OutputTopics } from './task-writer';

const t0 = 1_700_000_000_000;
const topics: OutputTopics = { snapshot: 'snap', roomSnapshot: 'room-snap', roomChanges: 'room-changes', changes: 'changes', changelog: 'changelog', dlq: 'dlq' };

/** A task with `users` users just online, a writer on it, and the requests the writer sent. */
function setUp(users: number, flushPartKeys: number) {
  const task = new PresenceTask(0, DEFAULT_CONFIG);
  for (let i = 0; i < users; i++) task.applyUser({ type: 'heartbeat', userId: `u${i}`, deviceId: 'laptop', sessionId: 's', platform: 'web', observedAt: t0, idleMs: 0 }, t0);
  const requests: Array<Array<{ topic: string; key: string }>> = [];
  /** Keys still pending in the task when each request was sent. */
  const pendingAtSend: number[] = [];
  let offset = 0;
  const producer = {
    sendBatch: async (b: ProducerBatch): Promise<RecordMetadata[]> => {
      pendingAtSend.push(task.pending);
      const sent = (b.topicMessages ?? []).flatMap((t) => t.messages.map((m) => ({ topic: t.topic, key: String(m.key) })));
      requests.push(sent);
      offset += sent.length;
      return [{ topicName: 'snap', partition: 0, errorCode: 0, baseOffset: String(offset) }];
    },
  } as unknown as Producer;
  const producers = { producer: async () => ({ producer, generation: 1 }), replace: async () => undefined } as unknown as ProducerSession;
  const writer = new TaskWriter({
    task, topics, serde: localSerde(), store: {} as PartitionStore, consumer: {} as Consumer, groupId: 'g', guarantee: 'at-least-once',
    producers, clock: () => t0, mayWrite: () => true, flushPartKeys,
  });
  return { task, writer, requests, pendingAtSend };
}

describe('TaskWriter.emit: a flush in parts', () => {
  it('sends 10 keys as parts of 4, 4 and 2, each acknowledged and committed before the next is decided, the extras last', async () => {
    const { task, writer, requests, pendingAtSend } = setUp(10, 4);
    const watermark = { topic: 'watermark', key: 'w', value: Buffer.from('w'), partition: 0 };
    await writer.emit(t0, [], [watermark], { topic: 'heartbeats', next: '10' });
    const snapshotsPerRequest = requests.map((r) => r.filter((m) => m.topic === 'snap').length);
    expect(snapshotsPerRequest).toEqual([4, 4, 2]);
    // The part sent second was decided after the first one's commit: 6 keys were left, then 2.
    expect(pendingAtSend).toEqual([10, 6, 2]);
    expect(requests.flat().filter((m) => m.topic === 'snap').map((m) => m.key)).toEqual(Array.from({ length: 10 }, (_, i) => `u${i}`));
    expect(requests.map((r) => r.some((m) => m.topic === 'watermark'))).toEqual([false, false, true]);
    expect(requests.at(-1)?.at(-1)?.topic).toBe('watermark');
    expect(task.pending).toBe(0);
    for (let i = 0; i < 10; i++) expect(task.user(`u${i}`)?.emitted?.status).toBe('Online');
    expect(writer.hasUncheckpointed).toBe(true); // the position (and the new users) wait for the checkpoint
  });

  it('keys up to one part: one request, as one whole flush', async () => {
    const { writer, requests } = setUp(4, 4);
    await writer.emit(t0, [], [], null);
    expect(requests.map((r) => r.filter((m) => m.topic === 'snap').length)).toEqual([4]);
  });

  it('a part that fails leaves it and the keys after it pending, and keeps the input position unrecorded', async () => {
    const { task, writer } = setUp(10, 4);
    const producers = (writer as unknown as { o: { producers: ProducerSession } }).o.producers;
    const { producer } = await producers.producer();
    let calls = 0;
    const send = producer.sendBatch.bind(producer);
    (producer as { sendBatch: Producer['sendBatch'] }).sendBatch = (b) => (++calls === 2 ? Promise.reject(new Error('broker gone')) : send(b));
    await expect(writer.emit(t0, [], [], { topic: 'heartbeats', next: '10' })).rejects.toThrow('broker gone');
    expect(task.pending).toBe(6);
    expect(task.user('u0')?.emitted?.status).toBe('Online');
    expect(task.user('u4')?.emitted).toBeNull();
    const positions = (writer as unknown as { positions: Map<string, string> }).positions;
    expect(positions.has('heartbeats')).toBe(false);
    await writer.emit(t0, [], [], { topic: 'heartbeats', next: '10' });
    expect(task.pending).toBe(0);
    expect(task.user('u9')?.emitted?.status).toBe('Online');
    expect(positions.get('heartbeats')).toBe('10');
  });

  it('after a failed part, what was applied since is neither lost nor overwritten by the old part\'s commit', async () => {
    const { task, writer, requests } = setUp(10, 4);
    const producers = (writer as unknown as { o: { producers: ProducerSession } }).o.producers;
    const { producer } = await producers.producer();
    let calls = 0;
    const send = producer.sendBatch.bind(producer);
    (producer as { sendBatch: Producer['sendBatch'] }).sendBatch = (b) => (++calls === 1 ? Promise.reject(new Error('broker gone')) : send(b));
    await expect(writer.emit(t0, [], [], null)).rejects.toThrow('broker gone');
    // The next batch: an override for a user of the failed part, and a second device for another.
    task.applyUser({ type: 'override', userId: 'u1', eventId: 'o-1', setAt: t0 + 5, status: 'DoNotDisturb', customText: 'focus', expiresAt: null }, t0 + 5);
    task.applyUser({ type: 'heartbeat', userId: 'u2', deviceId: 'phone', sessionId: 's2', platform: 'ios', observedAt: t0 + 5, idleMs: 0 }, t0 + 5);
    await writer.emit(t0 + 5, [], [], null);
    expect(task.pending).toBe(0);
    expect(task.user('u1')?.state.override?.status).toBe('DoNotDisturb');
    expect(task.user('u1')?.emitted?.status).toBe('DoNotDisturb');
    expect(task.user('u2')?.state.sessions).toHaveLength(2);
    expect(task.user('u2')?.emitted?.devices).toHaveLength(2);
    for (let i = 0; i < 10; i++) expect(task.user(`u${i}`)?.emitted?.status).toBe(i === 1 ? 'DoNotDisturb' : 'Online');
    // The failed part's records went out again, then every key's newest snapshot.
    expect(requests.flat().filter((m) => m.topic === 'snap').map((m) => m.key).slice(0, 4)).toEqual(['u0', 'u1', 'u2', 'u3']);
  });
});
