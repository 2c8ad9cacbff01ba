/**
 * Contact lists for readers: a local copy of the compacted presence.contacts.v1, kept as the core's
 * ContactLists (owner → contact → addedAt) so every read path answers "is the caller in this
 * user's list?" in O(1) (isContact), for single reads, one pass over a batch and each stream event.
 *
 * Every record goes through the core's checkContactRecord; one it refuses is skipped here and counted
 * (onRejected), never dead-lettered: the dead letter is written once, by the query service's
 * contacts validator (contacts-validator.ts), not by each of the many replicas. The bound is the
 * core's order-independent rule (isContactIn), so every replica agrees whatever order it read the
 * partitions in.
 *
 * Two modes, like SnapshotReplica: a full replica (query service, history service) read from the
 * earliest offsets without a consumer group, ready once caught up; or a tail (the gateway) read from
 * the partitions' ends that decodes only the records whose owner `follows` accepts (the key carries
 * the owner, so the rest are never decoded), the followed owners' current lists coming from the
 * query service (see services/gateway/subscriptions.ts).
 */
import type { Kafka } from 'kafkajs';
import {
  applyContactEvent, checkContactRecord, contactsWithinBound, parseContactKey, MAX_CONTACTS_PER_OWNER,
  type ContactEvent, type ContactList, type PresenceConfig, type Rejection,
} from '../core';
import { RegistryUnavailableError, SerdeError, type AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import type { Logger } from './log';
import { PartitionReader } from './partition-reader';

/** Owners' contact lists in memory, with the within-bound set cached for the (rare) lists over it. */
export class ContactBook {
  private readonly lists = new Map<string, ContactList>();
  private readonly withinBound = new Map<string, ReadonlySet<string> | null>();

  constructor(private readonly bound = MAX_CONTACTS_PER_OWNER) {}

  /** Is `viewer` in `owner`'s list, within the bound? */
  isContact(owner: string, viewer: string): boolean {
    const list = this.lists.get(owner);
    if (list === undefined || !list.has(viewer)) return false;
    if (list.size <= this.bound) return true;
    let within = this.withinBound.get(owner);
    if (within === undefined) this.withinBound.set(owner, (within = contactsWithinBound(list, this.bound)));
    return within === null || within.has(viewer);
  }

  /** The owner's list (every live entry, also those past the bound). */
  listOf(owner: string): ContactList | undefined {
    return this.lists.get(owner);
  }

  apply(e: ContactEvent): void {
    const next = applyContactEvent(this.lists.get(e.owner), e);
    if (next.size === 0) this.lists.delete(e.owner);
    else this.lists.set(e.owner, next);
    this.withinBound.delete(e.owner);
  }

  /** Replaces an owner's whole list (a tail's first fetch of a followed owner). */
  replace(owner: string, entries: readonly (readonly [string, number])[]): void {
    if (entries.length === 0) this.lists.delete(owner);
    else this.lists.set(owner, new Map(entries));
    this.withinBound.delete(owner);
  }

  forget(owner: string): void {
    this.lists.delete(owner);
    this.withinBound.delete(owner);
  }

  /** Owners with a list. */
  get size(): number {
    return this.lists.size;
  }
}

export interface ContactsReplicaOptions {
  readonly kafka: Kafka;
  readonly serde: AvroSerde;
  readonly prefix: string;
  readonly cfg: PresenceConfig;
  readonly log: Logger;
  readonly clock?: () => number;
  readonly book?: ContactBook;
  /** Called after each applied record: `contact` was added to or removed from `owner`'s list. */
  readonly onChange?: (owner: string, contact: string) => void;
  /** Instead of applying to `book` (and onChange): each checked event goes here (a tail feeding a hub that holds its own lists). */
  readonly onEvent?: (e: ContactEvent) => void;
  /** A record skipped (undecodable or refused by the core's check): the validator dead-letters it, not this replica. */
  readonly onRejected?: (rejection: Rejection, partition: number, offset: string) => void;
  /** A tail (see above): from the ends, only records whose owner is followed are decoded. */
  readonly tail?: { readonly follows: (owner: string) => boolean };
}

export class ContactsReplica {
  readonly book: ContactBook;
  private reader: PartitionReader | null = null;
  private running: Promise<void> = Promise.resolve();
  private caughtUp = false;
  private resolveReady!: () => void;
  /** Resolves once the replica has read to the ends read at start (a tail: at once). */
  readonly whenReady = new Promise<void>((r) => (this.resolveReady = r));

  constructor(private readonly o: ContactsReplicaOptions) {
    this.book = o.book ?? new ContactBook();
  }

  ready(): boolean {
    return this.caughtUp;
  }

  async start(): Promise<void> {
    const topic = topicName('contacts', this.o.prefix);
    const admin = this.o.kafka.admin();
    await admin.connect();
    let partitions: { partition: number; high: string }[];
    try {
      partitions = await admin.fetchTopicOffsets(topic);
    } finally {
      await admin.disconnect();
    }
    const reader = new PartitionReader({
      kafka: this.o.kafka, log: this.o.log, readCommitted: true, maxWaitMs: 100, maxBytesPerPartition: 4 * 1024 * 1024,
      partitions: partitions.map((p) => ({ topic, partition: p.partition, from: this.o.tail ? BigInt(p.high) : 'earliest' as const })),
    });
    this.reader = reader;
    const caughtUp = () => {
      if (this.caughtUp) return;
      this.caughtUp = true;
      this.o.log.info({ owners: this.book.size }, 'contacts replica caught up');
      this.resolveReady();
    };
    this.running = reader.run(async (batch) => {
      for (const m of batch.messages) await this.apply(batch.partition, m.offset, m.key, m.value);
    }, { until: 'live', onCaughtUp: caughtUp }).catch((e: unknown) => this.o.log.error({ err: String(e) }, 'contacts reader stopped'));
    if (this.o.tail) caughtUp();
  }

  async stop(): Promise<void> {
    const reader = this.reader;
    this.reader = null;
    if (!reader) return;
    await reader.stop();
    await this.running;
  }

  private async apply(partition: number, offset: string, key: Buffer | null, value: Buffer | null): Promise<void> {
    const k = key === null ? null : key.toString('utf8');
    if (this.o.tail) {
      const parsed = parseContactKey(k, this.o.cfg);
      if (!parsed.ok || !this.o.tail.follows(parsed.event.owner)) return; // not decoded: the point of a tail
    }
    let decoded: unknown = null;
    if (value !== null) {
      try {
        decoded = await this.o.serde.decode('contacts', value);
      } catch (e) {
        if (e instanceof RegistryUnavailableError) throw e; // retried: the record is fine
        const reason = e instanceof SerdeError ? e.message : String(e);
        this.o.onRejected?.({ code: 'wrong-type', field: 'value', reason }, partition, offset);
        return;
      }
    }
    const checked = checkContactRecord(k, decoded, (this.o.clock ?? Date.now)(), this.o.cfg);
    if (!checked.ok) {
      this.o.onRejected?.(checked.rejection, partition, offset);
      return;
    }
    if (this.o.onEvent) {
      this.o.onEvent(checked.event);
      return;
    }
    this.book.apply(checked.event);
    this.o.onChange?.(checked.event.owner, checked.event.contact);
  }
}
