/**
 * Reads presence.changes.v1, presence.room-changes.v1, presence.snapshot.v1 (for the users'
 * visibility and last-seen privacy) and presence.override.v1 (every register write with its audit:
 * who set it and why, checked by the core's hygiene as the processor checks it) into the history index, without a consumer group: every
 * partition from the offset the index stored (from the earliest offset when the index is empty, so
 * an empty directory rebuilds itself from the topics), live. One index batch per input batch holds
 * the records and the offset after them, so a restart resumes exactly where the index ends and a
 * replayed record overwrites itself.
 *
 * Never throws on a record: an undecodable one is counted, logged and skipped. A registry that
 * cannot be asked is retried (with backoff) until it answers or the indexer stops.
 */
import type { Kafka, KafkaMessage } from 'kafkajs';
import { partitionCounts } from '../contract/provision';
import { RegistryUnavailableError, type AvroRole, type AvroSerde, type TopicValues } from '../contract/serde';
import { roomKey, topicName } from '../contract/topics';
import type { Logger } from '../platform/log';
import { PartitionReader, type PartitionBatch } from '../platform/partition-reader';
import { checkUserEventAs, type PresenceConfig } from '../core';
import { settingOf } from './audit';
import type { HistoryIndex, IndexWrite, UserSettings } from './history-index';

export interface IndexerOptions {
  readonly kafka: Kafka;
  readonly serde: AvroSerde;
  readonly prefix: string;
  readonly index: HistoryIndex;
  readonly log: Logger;
  /** The rules' bounds, for checking override records as the processor does. */
  readonly cfg: PresenceConfig;
  readonly onIndexed?: (role: IndexedRole, records: number) => void;
  readonly onUndecodable?: () => void;
}

const ROLES = ['changes', 'roomChanges', 'snapshot', 'override'] as const;
export type IndexedRole = (typeof ROLES)[number];

export class HistoryIndexer {
  private reader: PartitionReader | null = null;
  private running: Promise<void> | null = null;
  private caughtUp = false;
  private stopped = false;
  private readonly roleOf = new Map<string, IndexedRole>();
  private resolveReady!: () => void;
  /** Resolves once every partition reached the end offset read at start. */
  readonly whenReady = new Promise<void>((r) => (this.resolveReady = r));

  constructor(private readonly o: IndexerOptions) {
    for (const role of ROLES) this.roleOf.set(topicName(role, o.prefix), role);
  }

  ready(): boolean {
    return this.caughtUp;
  }

  async start(): Promise<void> {
    const { kafka, index, log } = this.o;
    const topics = [...this.roleOf.keys()];
    const admin = kafka.admin();
    await admin.connect();
    let counts: Record<string, number>;
    try {
      counts = await partitionCounts(admin, topics);
    } finally {
      await admin.disconnect();
    }
    const stored = await index.offsets();
    const partitions = topics.flatMap((topic) => Array.from({ length: counts[topic] ?? 0 }, (_, partition) => {
      const from = stored.get(topic)?.get(partition);
      return { topic, partition, from: from ?? ('earliest' as const) };
    }));
    const resumed = partitions.filter((p) => p.from !== 'earliest').length;
    log.info({ partitions: partitions.length, resumed }, resumed === 0 ? 'empty index: rebuilding from the earliest offsets' : 'resuming from the stored offsets');
    const reader = new PartitionReader({ kafka, log, readCommitted: true, maxWaitMs: 100, partitions });
    this.reader = reader;
    this.running = reader.run((batch) => this.apply(batch), {
      until: 'live',
      onCaughtUp: () => {
        this.caughtUp = true;
        this.resolveReady();
      },
    }).catch((e: unknown) => log.error({ err: String(e) }, 'history indexer stopped'));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const reader = this.reader;
    this.reader = null;
    if (!reader) return;
    await reader.stop();
    await this.running;
  }

  private async apply(batch: PartitionBatch): Promise<void> {
    const role = this.roleOf.get(batch.topic);
    if (role === undefined) return;
    for (let backoff = 250; ; backoff = Math.min(5_000, backoff * 2)) {
      try {
        const writes = await this.writesOf(role, batch.messages);
        await this.o.index.write(writes, { topic: batch.topic, partition: batch.partition, next: batch.nextOffset });
        this.o.onIndexed?.(role, batch.messages.length);
        return;
      } catch (e) {
        if (!(e instanceof RegistryUnavailableError) || this.stopped) throw e;
        this.o.log.warn({ err: e.message, backoff }, 'schema registry unavailable; retrying the batch');
        await new Promise((r) => setTimeout(r, backoff));
      }
    }
  }

  private async decode<R extends AvroRole>(role: R, m: KafkaMessage): Promise<TopicValues[R] | null> {
    if (m.value === null) return null;
    try {
      return this.o.serde.decodeSync(role, m.value) ?? await this.o.serde.decode(role, m.value);
    } catch (e) {
      if (e instanceof RegistryUnavailableError) throw e;
      this.o.onUndecodable?.();
      this.o.log.warn({ role, offset: m.offset, err: (e as Error).message }, 'undecodable record skipped');
      return null;
    }
  }

  private async writesOf(role: IndexedRole, messages: readonly KafkaMessage[]): Promise<IndexWrite[]> {
    const writes: IndexWrite[] = [];
    // Settings written earlier in this batch, not yet in the index.
    const pending = new Map<string, UserSettings>();
    for (const m of messages) {
      switch (role) {
        case 'changes': {
          const c = await this.decode('changes', m);
          if (c) writes.push({ kind: 'userChange', userId: c.userId, change: { at: c.at, from: c.from, to: c.to, cause: c.cause, version: c.version } });
          break;
        }
        case 'roomChanges': {
          const c = await this.decode('roomChanges', m);
          if (c) writes.push({ kind: 'roomChange', roomKey: roomKey(c.roomKind, c.roomId), change: { roomKind: c.roomKind, roomId: c.roomId, members: c.members, version: c.version, at: c.at } });
          break;
        }
        case 'snapshot': {
          const s = await this.decode('snapshot', m);
          if (!s) break;
          const before = pending.get(s.userId) ?? await this.o.index.settings(s.userId);
          const settings: UserSettings = { visibility: s.visibility, lastSeenPrivacy: s.lastSeenPrivacy };
          if (before && before.visibility === settings.visibility && before.lastSeenPrivacy === settings.lastSeenPrivacy) break;
          pending.set(s.userId, settings);
          writes.push({ kind: 'settings', userId: s.userId, at: s.emittedAt, settings, visibilityChanged: before?.visibility !== settings.visibility });
          break;
        }
        case 'override': {
          const o = await this.decode('override', m);
          if (!o || m.key?.toString('utf8') !== o.userId) break;
          // Activities are not settings: the intervals from presence.changes.v1 already carry the status they fold into.
          if (o.kind === 'activity') break;
          // The processor applies the same check (its 'now' is its clock; here the record's append time).
          const kind = o.kind === 'status' ? 'override' : o.kind === 'visibility' ? 'visibility' : 'lastSeenPrivacy';
          const checked = checkUserEventAs(kind, o, Number(m.timestamp), this.o.cfg);
          const setting = checked.ok ? settingOf(checked.event) : null;
          if (setting) writes.push({ kind: 'setting', userId: o.userId, setting });
          // A refused record is the processor's to dead-letter; history just does not show it.
          break;
        }
        default: {
          const never: never = role;
          throw new Error(`unknown role ${String(never)}`);
        }
      }
    }
    return writes;
  }
}
