/** A producer that outlives its producer id: the edge every writer that must survive a broker failover goes through. */
import type { Kafka, Producer } from 'kafkajs';
import type { Logger } from './log';
import { KeyHashPartitioner } from './partitioner';

/**
 * One idempotent producer, replaced after a failed send. kafkajs' idempotent producer is dead for
 * good after some errors (OUT_OF_ORDER_SEQUENCE_NUMBER after a broker failover, kafkajs issue 598):
 * a new producer (a new producer id) is the only way on. Used by the processor (shared at least
 * once, one per task with a transactional id exactly once) and by the notification gate.
 */
export class ProducerSession {
  private current: Producer | null = null;
  private connecting: Promise<Producer> | null = null;
  private generation = 0;

  constructor(private readonly kafka: Kafka, private readonly log: Logger, private readonly options: { transactionalId?: string } = {}) {}

  /** The connected producer of the current generation. */
  async producer(): Promise<{ producer: Producer; generation: number }> {
    if (this.current) return { producer: this.current, generation: this.generation };
    this.connecting ??= (async () => {
      const p = this.kafka.producer({
        idempotent: true, maxInFlightRequests: 1, createPartitioner: KeyHashPartitioner,
        // A catching-up task's transaction can stay open up to its catch-up interval (60 s).
        ...(this.options.transactionalId ? { transactionalId: this.options.transactionalId, transactionTimeout: 300_000 } : {}),
      });
      await p.connect();
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
    this.log.warn({ err: String(cause), transactionalId: this.options.transactionalId }, 'producer replaced after a failed send');
    await old.disconnect().catch(() => undefined);
  }

  async close(): Promise<void> {
    const p = this.current ?? (this.connecting ? await this.connecting.catch(() => null) : null);
    this.current = null;
    await p?.disconnect().catch(() => undefined);
  }
}
