/**
 * The gateway's lease on presence.gateway-lease.v1 (compacted, key = gatewayId): "this gateway is
 * alive and holds sessions". Written once before the gateway accepts clients, renewed every
 * leaseMs/3, and on a clean stop (after every session was ended) written a last time with leaseMs 0.
 * When a gateway dies without stopping (SIGKILL, crash, a frozen host), its renewals stop and the
 * processor ends, at renewedAt + leaseMs, every session whose latest heartbeat came through it
 * (services/processor/gateway-leases.ts), instead of waiting for the offline threshold.
 *
 * A renewal that fails is logged and retried at the next beat; a lease that runs out while this
 * gateway is alive but cannot reach Kafka ends its sessions in the processor, and their next
 * heartbeat (observed later) opens them again.
 */
import type { Kafka, Producer } from 'kafkajs';
import type { GatewayLease } from '../contract/avro-types';
import { leaseMessage } from '../contract/gateway-lease-codec';
import type { AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import type { Logger } from '../platform/log';

export interface LeaseOptions {
  readonly kafka: Kafka;
  readonly serde: AvroSerde;
  readonly prefix: string;
  readonly gatewayId: string;
  /** How long the lease lasts without renewal; renewed every leaseMs/3. */
  readonly leaseMs: number;
  readonly clock: () => number;
  readonly log: Logger;
  /** Bound on each write. */
  readonly timeoutMs: number;
}

export interface GatewayLeaseWriter {
  readonly startedAt: number;
  /** The last lease acknowledged by Kafka (null before the first). */
  readonly last: () => GatewayLease | null;
  /** Stops renewing and writes the final lease (leaseMs 0): call after every session was ended. */
  stop(): Promise<void>;
}

/**
 * Starts the lease: resolves once the first one was written (or, on failure, logged and retried).
 * Null when the topic does not exist (provisioned before leases): the gateway then does not
 * announce itself and its silent sessions expire at the offline threshold, as before.
 */
export async function startGatewayLease(o: LeaseOptions): Promise<GatewayLeaseWriter | null> {
  const topic = topicName('gatewayLease', o.prefix);
  const admin = o.kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      o.log.warn({ topic }, 'no gateway lease topic (run provisioning): this gateway does not announce itself, so if it dies its sessions end only at the offline threshold');
      return null;
    }
  } finally {
    await admin.disconnect();
  }
  const startedAt = o.clock();
  const producer: Producer = o.kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 2, maxRetryTime: o.timeoutMs } });
  await producer.connect();
  let last: GatewayLease | null = null;
  let writing: Promise<void> = Promise.resolve();
  const write = (leaseMs: number): Promise<void> => (writing = writing.then(async () => {
    const lease: GatewayLease = { gatewayId: o.gatewayId, startedAt, renewedAt: o.clock(), leaseMs };
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        producer.send({ topic, acks: -1, messages: [await leaseMessage(o.serde, lease)] }),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer from Kafka within ${o.timeoutMs} ms`)), o.timeoutMs))),
      ]);
      last = lease;
    } catch (e) {
      o.log.warn({ topic, gatewayId: o.gatewayId, err: String(e) }, 'writing the gateway lease failed; retried at the next renewal');
    } finally {
      clearTimeout(timer);
    }
  }));
  await write(o.leaseMs);
  const renew = setInterval(() => void write(o.leaseMs), Math.max(1, Math.floor(o.leaseMs / 3)));
  let stopped: Promise<void> | null = null;
  return {
    startedAt,
    last: () => last,
    stop: () => (stopped ??= (async () => {
      clearInterval(renew);
      await write(0);
      await producer.disconnect();
    })()),
  };
}
