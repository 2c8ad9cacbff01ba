/** Fault injection for integration tests: real clients, with chosen calls failing as a broken broker would fail them. */
import { KafkaJSNonRetriableError, type Kafka, type Producer, type ProducerBatch, type ProducerConfig } from 'kafkajs';

/**
 * A Kafka client whose producers die as kafkajs' idempotent producer does after
 * OUT_OF_ORDER_SEQUENCE_NUMBER (its issue 598): once armed, the first `failures` producers to send
 * records for `topic` fail that send with a fatal (non-retriable) error and every send after it.
 * Only a new producer gets on, so the service's own recovery (backoff, new producer, resend of what
 * was not acknowledged) is what is under test. Transactional producers are left alone.
 */
export function withFatalSends(kafka: Kafka, topic: string, failures: number): { kafka: Kafka; failed: () => number; killed: () => number; arm: () => void } {
  let left = 0;
  let failed = 0;
  let killed = 0;
  const bind = <T extends object>(target: T, prop: string | symbol) => {
    const v = Reflect.get(target, prop) as unknown;
    return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
  };
  const wrapProducer = (p: Producer): Producer => {
    let dead = false;
    return new Proxy(p, {
      get(target, prop) {
        if (prop !== 'sendBatch') return bind(target, prop);
        return async (batch: ProducerBatch) => {
          if (!dead && left > 0 && (batch.topicMessages ?? []).some((t) => t.topic === topic)) {
            left--;
            killed++;
            dead = true;
          }
          if (dead) {
            failed++;
            throw new KafkaJSNonRetriableError('injected: fatal producer error (this producer is dead)');
          }
          return target.sendBatch(batch);
        };
      },
    });
  };
  const wrapped = new Proxy(kafka, {
    get(target, prop) {
      if (prop !== 'producer') return bind(target, prop);
      return (config?: ProducerConfig) => {
        const p = target.producer(config);
        return config?.transactionalId ? p : wrapProducer(p);
      };
    },
  });
  return { kafka: wrapped, failed: () => failed, killed: () => killed, arm: () => (left = failures) };
}
