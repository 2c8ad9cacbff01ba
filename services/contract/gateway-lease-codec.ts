/**
 * The one mapping of presence.gateway-lease.v1 records: gateways write them with `leaseMessage`,
 * the processor reads them with `leaseFromRecord`. Key: the gatewayId; value: GatewayLease (a
 * tombstone forgets the gateway).
 */
import type { Message } from 'kafkajs';
import type { GatewayLease } from './avro-types';
import type { AvroSerde } from './serde';

export class GatewayLeaseRecordError extends Error {
  readonly code = 'bad-gateway-lease';
}

/** The record to send to topicName('gatewayLease', prefix), keyed by the gatewayId. */
export async function leaseMessage(serde: AvroSerde, lease: GatewayLease): Promise<Message> {
  return { key: lease.gatewayId, value: await serde.encode('gatewayLease', lease) };
}

/** A decoded lease checked against its key (a lease under another key would expire the wrong gateway). */
export function leaseFromRecord(value: GatewayLease, key: string): GatewayLease {
  if (value.gatewayId !== key) throw new GatewayLeaseRecordError(`lease of gateway ${JSON.stringify(value.gatewayId)} read with key ${JSON.stringify(key)}`);
  if (!Number.isInteger(value.leaseMs) || value.leaseMs < 0) throw new GatewayLeaseRecordError(`lease of gateway ${JSON.stringify(key)} has leaseMs ${value.leaseMs}`);
  return value;
}
