/** A producer that outlives its producer id: the edge every writer that must survive a broker failover goes through. */
import type { Kafka, Producer } from 'kafkajs';
import type { Logger } from './log';
import { KeyHashPartitioner } from './partitioner';

/**
 * One producer at a time, replaced after a failed send. kafkajs' idempotent producer is dead for
 * good after some errors (OUT_OF_ORDER_SEQUENCE_NUMBER after a broker failover, kafkajs issue 598):
 * a new producer (a new producer id) is the only way on. Used by the processor (shared at least
 * once, one per task with a transactional id exactly once), the notification gate and the
 * gateway's publisher.
 */
export class ProducerSession {
  private current: Producer | null = null;
  private connecting: Promise<Producer> | null = null;
  private generation = 0;

  /** `create` makes an unconnected producer; `context` goes into the replacement's log line. */
  constructor(private readonly create: () => Producer, private readonly log: Logger, private readonly context: Record<string, unknown> = {}) {}

  /** The connected producer of the current generation. */
  async producer(): Promise<{ producer: Producer; generation: number }> {
    if (this.current) return { producer: this.current, generation: this.generation };
    this.connecting ??= (async () => {
      const p = this.create();
      try {
        await p.connect();
      } catch (e) {
        await p.disconnect().catch(() => undefined); // stop kafkajs retrying in the background
        throw e;
      }
      this.current = p;
      return p;
    })().finally(() => (this.connecting = null));
    const producer = await this.connecting;
    return { producer, generation: this.generation };
  }

  /** Drops the producer of `generation` (if still current) so the next call makes a new one. */
  async replace(generation: number, cause: unknown): Promise<void> {
    if (generation !== this.generation || !this.current) return;
    const old = this.current;
    this.current = null;
    this.generation++;
    this.log.warn({ ...this.context, err: String(cause) }, 'producer replaced after a failed send');
    await old.disconnect().catch(() => undefined);
  }

  async close(): Promise<void> {
    const p = this.current ?? (this.connecting ? await this.connecting.catch(() => null) : null);
    this.current = null;
    await p?.disconnect().catch(() => undefined);
  }
}

/** An idempotent producer partitioning by murmur2 of the key, optionally transactional. */
export function idempotentProducer(kafka: Kafka, transactionalId?: string): () => Producer {
  return () => kafka.producer({
    idempotent: true, maxInFlightRequests: 1, createPartitioner: KeyHashPartitioner, allowAutoTopicCreation: false,
    // A catching-up task's transaction can stay open up to its catch-up interval (60 s).
    ...(transactionalId ? { transactionalId, transactionTimeout: 300_000 } : {}),
  });
}
