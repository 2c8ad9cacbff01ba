/**
 * The one place contact events are judged for the dead-letter topic. Every read path keeps its own
 * copy of presence.contacts.v1 and skips what the core refuses (ContactsReplica), but only this
 * validator writes dead letters: it is a consumer group (`<groupIdBase>-contacts-validator`) that
 * every query-service replica joins, so each record is judged by the one member that owns its
 * partition, not once per replica. At-least-once like every consumer here: a rebalance may replay
 * a few records, and with them their dead letters (each names its source topic, partition and
 * offset, so a reader can drop duplicates).
 *
 * A record is dead-lettered when it is malformed (undecodable, a key that is not
 * `<owner>\u001f<contact>`, a value whose owner or contact is not the key's, a bad addedAt: the core's
 * checkContactRecord, code `rejected` with the field) or when an add lands past the owner's bound
 * (contactPastBound against this process's full replica of the lists, which it waits for: field
 * `contact`, code `rejected`). The readers' order-independent rule already leaves such an add out;
 * the dead letter says so to whoever produced it. The group starts from the earliest offset the
 * first time, then from its committed offsets.
 */
import type { Consumer, Kafka } from 'kafkajs';
import { checkContactRecord, contactPastBound, MAX_CONTACTS_PER_OWNER, type PresenceConfig } from '../core';
import { deadLetterOf, type Refusal, type SourceRecord } from '../contract/dead-letter';
import { RegistryUnavailableError, SerdeError, type AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import type { ContactBook } from '../platform/contacts-replica';
import type { Logger } from '../platform/log';

export interface ContactsValidatorOptions {
  readonly kafka: Kafka;
  readonly serde: AvroSerde;
  readonly prefix: string;
  readonly groupId: string;
  readonly cfg: PresenceConfig;
  readonly log: Logger;
  /** The process's full replica of the lists (for the bound), caught up before the validator starts. */
  readonly book: ContactBook;
  readonly bound?: number;
  readonly clock?: () => number;
  /** Each dead letter written (for metrics). */
  readonly onDeadLetter?: (refusal: Refusal) => void;
}

const SERVICE = 'query-contacts-validator';

/** Why a contacts record is refused, or null when it is fine (pure apart from the decode). */
export async function contactRefusal(source: SourceRecord, o: Pick<ContactsValidatorOptions, 'serde' | 'cfg' | 'book' | 'bound'>, now: number): Promise<Refusal | null> {
  let value: unknown = null;
  if (source.value !== null) {
    try {
      value = await o.serde.decode('contacts', source.value);
    } catch (e) {
      if (e instanceof SerdeError) return { code: e.code, field: null, reason: e.message };
      throw e;
    }
  }
  const checked = checkContactRecord(source.key === null ? null : source.key.toString('utf8'), value, now, o.cfg);
  if (!checked.ok) return { code: 'rejected', field: checked.rejection.field, reason: `${checked.rejection.field} ${checked.rejection.reason}` };
  const e = checked.event;
  const bound = o.bound ?? MAX_CONTACTS_PER_OWNER;
  if (e.type === 'contactAdded' && contactPastBound(o.book.listOf(e.owner), e, bound)) {
    return { code: 'rejected', field: 'contact', reason: `${e.owner}'s contact list is full (at most ${bound} contacts): this add is not applied` };
  }
  return null;
}

export class ContactsValidator {
  private readonly consumer: Consumer;
  private readonly producer;
  private running = false;

  constructor(private readonly o: ContactsValidatorOptions) {
    this.consumer = o.kafka.consumer({ groupId: o.groupId, maxWaitTimeInMs: 200, readUncommitted: false });
    this.producer = o.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  }

  async start(): Promise<void> {
    const topic = topicName('contacts', this.o.prefix);
    const dlq = topicName('dlq', this.o.prefix);
    const clock = this.o.clock ?? Date.now;
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning: true });
    this.running = true;
    await this.consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning }) => {
        const letters: { value: Buffer }[] = [];
        let last: string | null = null;
        for (const m of batch.messages) {
          if (!isRunning()) break;
          const source: SourceRecord = { topic: batch.topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value };
          let refusal: Refusal | null;
          try {
            refusal = await contactRefusal(source, this.o, clock());
          } catch (e) {
            if (e instanceof RegistryUnavailableError) break; // not the record's fault: retried from here
            throw e;
          }
          if (refusal !== null) {
            letters.push({ value: await this.o.serde.encode('dlq', deadLetterOf(source, refusal, SERVICE, clock())) });
            this.o.log.warn({ partition: batch.partition, offset: m.offset, field: refusal.field, reason: refusal.reason }, 'contact event dead-lettered');
            this.o.onDeadLetter?.(refusal);
          }
          last = m.offset;
        }
        // The dead letters are acknowledged before the offsets that cover them are resolved.
        if (letters.length > 0) await this.producer.send({ topic: dlq, messages: letters, acks: -1 });
        if (last !== null) resolveOffset(last);
        await heartbeat();
      },
    });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }
}
