/**
 * Restoring one task before it processes input: the local store, then the changelog from the
 * store's position to its end, then the snapshot topics' partitions from the positions the last
 * checkpoint marker recorded (what readers were told after it: those views become `emitted`, so
 * replayed input never re-emits a version readers already saw).
 */
import type { Kafka } from 'kafkajs';
import type { AvroSerde } from '../contract/serde';
import { roomViewFromSnapshot, viewFromSnapshot } from '../contract/snapshot-codec';
import type { PresenceSnapshot, RoomSnapshot } from '../contract/avro-types';
import type { Logger } from '../platform/log';
import type { CheckpointMarker } from './entry-codec';
import type { ProcessorMetrics } from './metrics';
import { positionOf, readPartitionRanges } from './restore';
import type { PartitionStore } from './store';
import type { PresenceTask } from './task';

export interface RestoreTopics {
  readonly changelog: string;
  readonly snapshot: string;
  readonly roomSnapshot: string;
}

export interface RestoreContext {
  readonly kafka: Kafka;
  readonly serde: AvroSerde;
  readonly store: PartitionStore;
  readonly topics: RestoreTopics;
  readonly log: Logger;
  readonly metrics: ProcessorMetrics;
}

export interface Restored {
  readonly marker: CheckpointMarker | null;
  /** Keys whose snapshot readers got after the checkpoint (the previous owner wrote past it). */
  readonly emittedAfterCheckpoint: number;
}

export async function restoreTask(ctx: RestoreContext, task: PresenceTask, now: () => number): Promise<Restored> {
  const { kafka, store, topics, log, metrics } = ctx;
  const partition = task.partition;
  task.resetLoad(now()); // a retried restore (restoreUntilDone) starts from nothing again
  // The local store, decoded as it is read (holding every encoded entry first doubled restore's garbage).
  let localPosition: string | null;
  try {
    localPosition = await store.scan(partition, (key, value) => task.loadEntry(key, value));
  } catch (e) {
    log.warn({ partition, err: String(e) }, 'local store unreadable for partition; restoring from changelog alone');
    task.resetLoad(now());
    localPosition = null;
    // Rebuilt from the changelog alone: what the store held must not outlive it (a key the
    // changelog has since compacted away would come back at the next restore).
    await store.drop(partition).catch((d: unknown) => log.warn({ partition, err: String(d) }, 'could not clear the unreadable local store partition'));
  }
  // What the changelog holds past the store's position, applied over the store's record by record
  // (a later record of a key replaces it), and written to the store batch by batch with the position
  // after it: the store always reflects a prefix of the changelog, so a restore that fails midway
  // resumes from where it got. Nothing holds the fetched batches (keeping every record of a
  // changelog-alone restore until the end kept ~250 MB of fetch buffers alive at 500,000 users).
  let chunk: Array<readonly [string, Buffer | null]> = [];
  let stored = localPosition;
  const positions = await readPartitionRanges({
    kafka, log,
    requests: [{ topic: topics.changelog, partition, from: localPosition ?? '0' }],
    onRecord: (_t, _p, key, value) => {
      metrics.restoreRecords.inc();
      if (value === null) task.unloadEntry(key);
      else task.loadEntry(key, value);
      chunk.push([key, value]);
    },
    onBatchEnd: async (_t, _p, nextOffset) => {
      const changes = chunk;
      chunk = [];
      stored = nextOffset.toString();
      await store.write(partition, changes, stored);
    },
    onProgress: (p) => metrics.restoreRatio.set(p.total === 0 ? 1 : Math.min(1, p.records / p.total)),
  });
  const position = positionOf(positions, topics.changelog, partition) ?? '0';
  if (position !== stored) await store.write(partition, [], position);
  const keys = task.size;
  const marker = task.finishLoad();
  const emitted = await readEmittedSince(ctx, partition, marker);
  for (const [, s] of emitted.users) task.restoreEmittedUser(viewFromSnapshot(s));
  for (const [key, s] of emitted.rooms) task.restoreEmittedRoom(key, s && roomViewFromSnapshot(s), 0);
  task.start(now());
  metrics.restoreRatio.set(1);
  const emittedAfterCheckpoint = emitted.users.size + emitted.rooms.size;
  log.info({ partition, keys, changelogPosition: position, fromLocal: localPosition, emittedAfterCheckpoint }, 'partition restored');
  return { marker, emittedAfterCheckpoint };
}

/** The latest snapshot per key in the task's snapshot partitions after the marker's positions. */
async function readEmittedSince(ctx: RestoreContext, partition: number, marker: CheckpointMarker | null) {
  const { kafka, serde, topics, log } = ctx;
  const raw = { users: new Map<string, Buffer>(), rooms: new Map<string, Buffer | null>() };
  await readPartitionRanges({
    kafka, log,
    requests: [
      { topic: topics.snapshot, partition, from: marker?.snapshotEnd ?? '0' },
      { topic: topics.roomSnapshot, partition, from: marker?.roomSnapshotEnd ?? '0' },
    ],
    onRecord: (topic, _p, key, value) => {
      if (topic === topics.snapshot) { if (value) raw.users.set(key, value); } else raw.rooms.set(key, value);
    },
  });
  const users = new Map<string, PresenceSnapshot>();
  const rooms = new Map<string, RoomSnapshot | null>();
  for (const [key, value] of raw.users) users.set(key, serde.decodeSync('snapshot', value) ?? await serde.decode('snapshot', value));
  for (const [key, value] of raw.rooms) rooms.set(key, value && (serde.decodeSync('roomSnapshot', value) ?? await serde.decode('roomSnapshot', value)));
  return { users, rooms };
}
