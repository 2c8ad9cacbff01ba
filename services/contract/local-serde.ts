/**
 * An AvroSerde on this repository's own schemas with made-up schema ids, asking no registry: for
 * in-process measurements and unit tests that encode and decode as the services do, without Kafka.
 * Its frames carry ids 1000 + the role's index, which no registry gave out: never for records that
 * reach a topic.
 */
import { avroType } from './schemas';
import { AVRO_ROLES, AvroSerde, type AvroRole } from './serde';
import { TOPICS } from './topics';

export function localSerde(): AvroSerde {
  const ids = {} as Record<AvroRole, number>;
  const types = {} as Record<AvroRole, ReturnType<typeof avroType>>;
  AVRO_ROLES.forEach((role, i) => {
    ids[role] = 1000 + i;
    types[role] = avroType(TOPICS[role].valueSchema as string);
  });
  return new AvroSerde({ getSchema: () => Promise.reject(new Error('a local serde asks no registry')) }, ids, types);
}
