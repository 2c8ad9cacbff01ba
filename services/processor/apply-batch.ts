/**
 * Applying one batch of one input partition to its task: decode, check the partitioning contract
 * and hygiene, apply at `now`. Shared by the live processor and the rebuild (rebuild.ts), so a
 * rebuild applies records exactly as the live run did. Returns what to write besides the flush:
 * dead letters, and records that belong to another partition (re-sent there, never applied here).
 */
import type { KafkaMessage } from 'kafkajs';
import type { PresenceConfig } from '../core';
import type { DeadLetter } from '../contract/avro-types';
import { deadLetterOf } from '../contract/dead-letter';
import { SerdeError, type AvroSerde } from '../contract/serde';
import type { TopicRole } from '../contract/topics';
import type { Logger } from '../platform/log';
import { keyHash } from '../platform/partitioner';
import { heartbeatEvent, overrideEvent, roomEvent } from './input';
import type { ProcessorMetrics } from './metrics';
import type { OutRecord } from './record-collector';
import type { PresenceTask } from './task';

export interface BatchApplierOptions {
  readonly serde: AvroSerde;
  readonly cfg: PresenceConfig;
  readonly log: Logger;
  readonly metrics: ProcessorMetrics;
  /** Stamps dead letters (failedAt). */
  readonly clock: () => number;
  /** Partition count of each input topic (the partitioning contract). */
  readonly partitionsOf: (topic: string) => number;
  /**
   * Drop each record from the batch's array once it is applied (its entry becomes undefined; the
   * last stays, kafkajs reads it after the batch). A fetch's decoded records otherwise all live
   * until the batch ends, and every scavenge meanwhile copies them (the live processor; kafkajs'
   * batch holds its records in that array alone, see infra/patches).
   */
  readonly releaseApplied?: boolean;
}

export interface AppliedBatch {
  readonly dlq: DeadLetter[];
  readonly rerouted: OutRecord[];
}

export type BatchApplier = (task: PresenceTask, topic: string, partition: number, messages: readonly KafkaMessage[], role: TopicRole, now: number) => Promise<AppliedBatch>;

/**
 * The record's key as a string: `userId` itself when the key's bytes are that id in ASCII (every
 * heartbeat the gateways send), so the key is not decoded into a second copy of a string the value
 * already holds; else the key decoded as UTF-8 (the check against the value's userId then decides).
 */
export function keyOf(key: Buffer | null, userId: unknown): string | null {
  if (key === null) return null;
  if (typeof userId === 'string' && key.length === userId.length) {
    let same = true;
    for (let i = 0; i < key.length; i++) {
      const c = userId.charCodeAt(i);
      // A non-ASCII character takes more UTF-8 bytes than UTF-16 units: equal lengths mean ASCII or a mismatch.
      if (c >= 0x80 || key[i] !== c) {
        same = false;
        break;
      }
    }
    if (same) return userId;
  }
  return key.toString();
}

export function batchApplier(o: BatchApplierOptions): BatchApplier {
  const { serde, cfg, log, metrics, clock } = o;
  let delaySample = 0;

  function deadLetter(topic: string, partition: number, m: KafkaMessage, code: string, field: string | null, reason: string): DeadLetter {
    metrics.dlq.inc({ code });
    log.warn({ topic, partition, offset: m.offset, code, field, reason }, 'dead-lettered');
    const bytes = (b: Buffer | string | null | undefined) => (b === null || b === undefined ? null : Buffer.from(b));
    return deadLetterOf({ topic, partition, offset: m.offset, key: bytes(m.key), value: bytes(m.value) }, { code, field, reason }, 'processor', clock());
  }

  return async (task, topic, partition, messages, role, now) => {
    const dlq: DeadLetter[] = [];
    const rerouted: OutRecord[] = [];
    const partitions = o.partitionsOf(topic);
    // Counted per batch: a labelled prom-client inc per record showed up in the profile.
    const applied = new Map<string, number>();
    const count = (kind: string) => applied.set(kind, (applied.get(kind) ?? 0) + 1);
    const release = o.releaseApplied === true;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i] as KafkaMessage;
      if (release && i < messages.length - 1) (messages as Array<KafkaMessage | undefined>)[i] = undefined;
      // Read once: the patched kafkajs makes a record's key and value views when they are read.
      const keyBytes = m.key;
      const value = m.value;
      // The partitioning contract: a record whose key hashes elsewhere (a producer with another
      // partitioner) belongs to another task; it is re-sent to its partition, never applied here.
      const owner = keyBytes === null ? partition : (keyHash(keyBytes) & 0x7fffffff) % partitions;
      if (owner !== partition) {
        rerouted.push({ topic, key: (keyBytes as Buffer).toString(), value, partition: owner });
        count('rerouted');
        continue;
      }
      let key: string | null = null;
      try {
        // decodeSync: no promise per record; `decode` only for a schema id seen for the first time.
        if (role !== 'heartbeat') key = keyBytes?.toString() ?? null;
        if (role === 'room') {
          const checked = roomEvent(serde.decodeSync('room', value) ?? await serde.decode('room', value), key, now, cfg);
          if (checked.ok) task.applyRoom(checked.event, now);
          else dlq.push(deadLetter(topic, partition, m, 'rejected', checked.rejection.field, `${checked.rejection.code}: ${checked.rejection.reason}`));
          if (checked.ok) count(`room-${checked.event.type}`);
        } else {
          let checked;
          if (role === 'heartbeat') {
            const wire = serde.decodeSync('heartbeat', value) ?? await serde.decode('heartbeat', value);
            key = keyOf(keyBytes, wire.userId);
            checked = heartbeatEvent(wire, key, now, cfg);
          } else {
            checked = overrideEvent(serde.decodeSync('override', value) ?? await serde.decode('override', value), key, now, cfg);
          }
          if (checked.ok) {
            task.applyUser(checked.event, now);
            if (checked.event.type === 'heartbeat' && (++delaySample & 15) === 0) metrics.eventDelay.observe(Math.max(0, now - checked.event.observedAt) / 1000);
          }
          else dlq.push(deadLetter(topic, partition, m, 'rejected', checked.rejection.field, `${checked.rejection.code}: ${checked.rejection.reason}`));
          if (checked.ok) count(checked.event.type);
        }
      } catch (e) {
        if (!(e instanceof SerdeError)) throw e;
        dlq.push(deadLetter(topic, partition, m, e.code, null, e.message));
      }
    }
    for (const [kind, n] of applied) metrics.events.inc({ kind }, n);
    return { dlq, rerouted };
  };
}
