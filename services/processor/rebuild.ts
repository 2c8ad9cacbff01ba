/**
 * The rebuild: replays the retained input topics of one prefix into the outputs of another
 * (snapshots, room snapshots, changes, room changes, dead letters), through the same PresenceTask,
 * applyBatch and flush encoding as the live processor, so the outputs are what the live run wrote.
 *
 * Per partition, the steps come from the live run's journal (journal.ts): each batch step applies
 * the journaled range of its input at the journaled instant and flushes there when the live task
 * did; each tick step applies the journaled gateway lease expiries, fires the timers due then and
 * flushes. The task being a pure function of its records and steps, the transitions (status, at,
 * cause, version) and snapshots come out equal to the live run's, whatever its wall clock, batch
 * boundaries or topic interleaving were.
 *
 * Input the journal does not cover (no journal topic, records past its last step, or a gap) is
 * applied on stream time: records of the three topics merged by their Kafka timestamp, each at
 * max(stream time, its timestamp), with every timer due before it fired at its deadline first.
 * That is deterministic, but not the live run: the live run applied events at its wall clock.
 */
import type { Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { PresenceConfig } from '../core';
import type { AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import type { Logger } from '../platform/log';
import { idempotentProducer } from '../platform/producer-session';
import { PartitionCursor } from '../platform/partition-cursor';
import { batchApplier, type BatchApplier } from './apply-batch';
import { JOURNALED_INPUTS, journalStepOf, type JournaledInput } from './journal';
import { createProcessorMetrics } from './metrics';
import { PendingRecords, type Ends, type OutRecord } from './record-collector';
import { PresenceTask, type FlushResult } from './task';
import { deadLetterRecord, flushRecords, type OutputTopics } from './task-writer';

export interface RebuildOptions {
  readonly kafka: Kafka;
  /** Where the inputs and the journal are read: the live run's prefix and a serde that decodes them. */
  readonly from: { readonly prefix: string; readonly serde: AvroSerde };
  /** Where the outputs go: a provisioned prefix and a serde registered under it. */
  readonly to: { readonly prefix: string; readonly serde: AvroSerde };
  readonly cfg: PresenceConfig;
  readonly log: Logger;
  /** Stamps dead letters only (failedAt). */
  readonly clock?: () => number;
  /** Called after each partition. */
  readonly onPartition?: (summary: PartitionSummary) => void;
}

export interface PartitionSummary {
  readonly partition: number;
  /** Journal steps replayed. */
  readonly steps: number;
  /** Input records applied (journaled or not). */
  readonly records: number;
  /** Of which applied on stream time: no journal step covered them. */
  readonly unjournaled: number;
  /** Journal entries that could not be read (skipped: the rebuild may then differ). */
  readonly badSteps: number;
  readonly transitions: number;
  readonly snapshots: number;
  readonly roomSnapshots: number;
  readonly deadLetters: number;
  /** Records of another partition (the live run re-sent them there; not applied here, not re-sent). */
  readonly rerouted: number;
}

export interface RebuildSummary extends Omit<PartitionSummary, 'partition'> {
  readonly fromPrefix: string;
  readonly toPrefix: string;
  readonly partitions: number;
  /** Whether the source has a journal topic (without one the whole rebuild is on stream time). */
  readonly journal: boolean;
}

/** Records queued before a send; the rebuild's flushes do not wait for acknowledgements. */
const SEND_EVERY = 2_000;

export async function rebuild(o: RebuildOptions): Promise<RebuildSummary> {
  const { kafka, cfg, log } = o;
  const clock = o.clock ?? Date.now;
  const inputTopic = (role: JournaledInput) => topicName(role, o.from.prefix);
  const journalTopic = topicName('journal', o.from.prefix);
  const admin = kafka.admin();
  await admin.connect();
  let partitions: number[];
  let journal: boolean;
  let counts: Record<string, number>;
  try {
    const meta = await admin.fetchTopicMetadata({ topics: JOURNALED_INPUTS.map(inputTopic) });
    counts = Object.fromEntries(meta.topics.map((t) => [t.name, t.partitions.length]));
    partitions = (meta.topics.find((t) => t.name === inputTopic('heartbeat'))?.partitions.map((p) => p.partitionId) ?? []).sort((a, b) => a - b);
    journal = (await admin.listTopics()).includes(journalTopic);
  } finally {
    await admin.disconnect();
  }
  if (!journal) log.warn({ topic: journalTopic }, 'no journal topic: the whole rebuild runs on stream time, not equal to the live run');

  const topics: OutputTopics = {
    snapshot: topicName('snapshot', o.to.prefix), roomSnapshot: topicName('roomSnapshot', o.to.prefix), roomChanges: topicName('roomChanges', o.to.prefix),
    changes: topicName('changes', o.to.prefix), changelog: topicName('storeChangelog', o.to.prefix), dlq: topicName('dlq', o.to.prefix),
  };
  const applyBatch = batchApplier({ serde: o.from.serde, cfg, log, metrics: createProcessorMetrics(), clock, partitionsOf: (t) => counts[t] as number });
  const producer = idempotentProducer(kafka)();
  await producer.connect();
  const total = { steps: 0, records: 0, unjournaled: 0, badSteps: 0, transitions: 0, snapshots: 0, roomSnapshots: 0, deadLetters: 0, rerouted: 0 };
  try {
    for (const partition of partitions) {
      const s = await rebuildPartition({ kafka, log, partition, journal: journal ? journalTopic : null, inputTopic, applyBatch, source: o.from.serde, cfg, send: { producer, topics, serde: o.to.serde } });
      for (const k of Object.keys(total) as Array<keyof typeof total>) total[k] += s[k];
      o.onPartition?.(s);
    }
  } finally {
    await producer.disconnect();
  }
  return { fromPrefix: o.from.prefix, toPrefix: o.to.prefix, partitions: partitions.length, journal, ...total };
}

interface PartitionRun {
  readonly kafka: Kafka;
  readonly log: Logger;
  readonly partition: number;
  readonly journal: string | null;
  readonly inputTopic: (role: JournaledInput) => string;
  readonly applyBatch: BatchApplier;
  /** Decodes the journal (the source's serde). */
  readonly source: AvroSerde;
  readonly cfg: PresenceConfig;
  readonly send: { readonly producer: Producer; readonly topics: OutputTopics; readonly serde: AvroSerde };
}

async function rebuildPartition(r: PartitionRun): Promise<PartitionSummary> {
  const { kafka, log, partition } = r;
  const task = new PresenceTask(partition, r.cfg);
  const s = { partition, steps: 0, records: 0, unjournaled: 0, badSteps: 0, transitions: 0, snapshots: 0, roomSnapshots: 0, deadLetters: 0, rerouted: 0 };
  const pending = new PendingRecords();
  const ends: Ends = new Map();
  const queue = async (records: readonly OutRecord[]) => {
    pending.add(records);
    if (pending.size >= SEND_EVERY) await pending.drain(r.send.producer, ends);
  };
  const flush = async (result: FlushResult) => {
    // Committed at once: the rebuild's next step must see this one as emitted, as the live task did
    // after the acknowledgement. A failed send fails the rebuild (start again on a fresh prefix).
    const records = flushRecords(r.send.serde, r.send.topics, result);
    result.commit();
    s.transitions += result.changes.length;
    s.snapshots += result.snapshots.length;
    s.roomSnapshots += result.roomSnapshots.length;
    await queue(records);
  };
  const apply = async (role: JournaledInput, messages: readonly KafkaMessage[], at: number) => {
    if (messages.length === 0) return;
    const { dlq, rerouted } = await r.applyBatch(task, r.inputTopic(role), partition, messages, role, at);
    s.records += messages.length - rerouted.length;
    s.rerouted += rerouted.length;
    s.deadLetters += dlq.length;
    await queue(dlq.map((d) => deadLetterRecord(r.send.serde, r.send.topics, d)));
  };

  // Opened in this order so the inputs' ends, read after the journal's, cover every journaled range.
  const steps = r.journal === null ? null : new PartitionCursor({ kafka, log, topic: r.journal, partition });
  const inputs = Object.fromEntries(JOURNALED_INPUTS.map((role) => [role, new PartitionCursor({ kafka, log, topic: r.inputTopic(role), partition })])) as Record<JournaledInput, PartitionCursor>;
  let streamTime = -Infinity;
  try {
    for (let m = await steps?.take(); m; m = await steps?.take()) {
      let step;
      try {
        step = journalStepOf(await r.source.decode('journal', m.value), partition, m.offset);
      } catch (e) {
        s.badSteps++;
        log.warn({ partition, offset: m.offset, err: String(e) }, 'unreadable journal entry skipped: the rebuild may differ from the live run');
        continue;
      }
      s.steps++;
      streamTime = Math.max(streamTime, step.at);
      if (step.step === 'batch') {
        const cursor = inputs[step.input];
        // A range applied twice by the live run (a batch retried after a failed write) is read twice.
        const position = cursor.position;
        if (position !== null && step.fromOffset < position) await cursor.seek(step.fromOffset);
        const messages = await cursor.takeBelow(step.nextOffset);
        // Records before the range that no step covered (a step lost with a crash) go with it.
        s.unjournaled += messages.filter((x) => BigInt(x.offset) < step.fromOffset).length;
        await apply(step.input, messages, step.at);
        if (step.flushed) await flush(task.flush(step.at));
      } else {
        for (const e of step.leaseExpiries) task.endGatewaySessions(e.gatewayId, e.deadUpTo, step.at, task.gateways.usersOf(e.gatewayId));
        task.fireDue(step.at);
        if (task.pending > 0) await flush(task.flush(step.at));
      }
    }
    // What no step covers: on stream time (see the header).
    for (;;) {
      let next: { role: JournaledInput; ts: number } | null = null;
      for (const role of JOURNALED_INPUTS) {
        const m = await inputs[role].peek();
        if (m !== null && (next === null || Number(m.timestamp) < next.ts)) next = { role, ts: Number(m.timestamp) };
      }
      if (next === null) break;
      const at = Math.max(streamTime, next.ts);
      for (let d = task.deadlines.next(); d !== null && d <= at; d = task.deadlines.next()) {
        const before = d;
        task.fireDue(d);
        if (task.pending > 0) await flush(task.flush(d));
        streamTime = Math.max(streamTime, d);
        if (task.deadlines.next() === before) break; // a check re-armed at the same instant: decided with the record
      }
      const m = (await inputs[next.role].take()) as KafkaMessage;
      s.unjournaled++;
      await apply(next.role, [m], at);
      await flush(task.flush(at));
      streamTime = at;
    }
    await pending.drain(r.send.producer, ends);
  } finally {
    await steps?.close();
    for (const c of Object.values(inputs)) await c.close();
  }
  log.info(s, 'partition rebuilt');
  return s;
}
