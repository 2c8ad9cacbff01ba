/**
 * Avro values through the Confluent-API schema registry (wire format: magic byte, schema id, body).
 * Schemas are registered from schemas/ with BACKWARD compatibility, one subject per topic value.
 */
import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import type * as T from './avro-types';
import { expandSchema, loadNamedSchemas } from './schemas';
import { TOPICS, valueSubject, type TopicRole } from './topics';

/** The value type of each topic that carries a registered Avro schema. */
export interface TopicValues {
  heartbeat: T.PresenceHeartbeat;
  override: T.PresenceOverride;
  room: T.RoomEvent;
  snapshot: T.PresenceSnapshot;
  roomSnapshot: T.RoomSnapshot;
  changes: T.PresenceChange;
  dlq: T.DeadLetter;
  notificationRequest: T.NotificationRequest;
  notificationDecision: T.NotificationDecision;
}
export type AvroRole = keyof TopicValues;
export const AVRO_ROLES = (Object.keys(TOPICS) as TopicRole[]).filter(
  (r): r is AvroRole => TOPICS[r].valueSchema !== null,
);

export class SerdeError extends Error {
  constructor(
    readonly code: 'undecodable' | 'unknown-schema' | 'wrong-schema' | 'unencodable',
    message: string,
    readonly cause?: unknown,
  ) {
    super(message);
  }
}

export function createRegistry(url: string): SchemaRegistry {
  // Unwrapped unions: a nullable field reads as `T | null`, matching the generated types.
  return new SchemaRegistry({ host: url }, { [SchemaType.AVRO]: { wrapUnions: false } });
}

/** Registers every topic's schema (idempotent: same schema, same id) and returns ids by role. */
export async function registerSchemas(registry: SchemaRegistry, prefix = ''): Promise<Record<AvroRole, number>> {
  const named = loadNamedSchemas();
  const ids = {} as Record<AvroRole, number>;
  for (const role of AVRO_ROLES) {
    const schema = JSON.stringify(expandSchema(TOPICS[role].valueSchema as string, named));
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema },
      { subject: valueSubject(role, prefix), compatibility: COMPATIBILITY.BACKWARD },
    );
    ids[role] = id;
  }
  return ids;
}

/** Encodes with the ids this process registered; decodes any id the registry knows. */
export class AvroSerde {
  private readonly accepted = new Map<number, AvroRole>();
  private readonly unknownIds = new Set<number>();

  constructor(
    private readonly registry: SchemaRegistry,
    private readonly ids: Record<AvroRole, number>,
  ) {
    for (const role of AVRO_ROLES) this.accepted.set(ids[role], role);
  }

  static async create(registry: SchemaRegistry, prefix = ''): Promise<AvroSerde> {
    return new AvroSerde(registry, await registerSchemas(registry, prefix));
  }

  encode<R extends AvroRole>(role: R, value: TopicValues[R]): Promise<Buffer> {
    return this.registry.encode(this.ids[role], value).catch((e: unknown) => {
      throw new SerdeError('unencodable', `cannot encode ${role}: ${(e as Error).message}`, e);
    });
  }

  /**
   * Decodes a value written with the schema of `role` (any registered version of its subject that
   * this process knows, or one the registry resolves). Never hangs on a poison record: an id the
   * registry refused once is refused from memory afterwards.
   */
  async decode<R extends AvroRole>(role: R, buffer: Buffer | null): Promise<TopicValues[R]> {
    if (!buffer || buffer.length < 6 || buffer[0] !== 0) {
      throw new SerdeError('undecodable', `not a schema-registry framed Avro value (${buffer?.length ?? 0} bytes)`);
    }
    const id = buffer.readInt32BE(1);
    if (this.unknownIds.has(id)) throw new SerdeError('unknown-schema', `schema id ${id} is unknown to the registry`);
    const known = this.accepted.get(id);
    if (known !== undefined && known !== role) {
      throw new SerdeError('wrong-schema', `schema id ${id} is ${TOPICS[known].valueSchema}, expected ${TOPICS[role].valueSchema}`);
    }
    try {
      return (await this.registry.decode(buffer)) as TopicValues[R];
    } catch (e) {
      const message = (e as Error).message ?? String(e);
      if (/not found|404|40403/i.test(message)) {
        this.unknownIds.add(id);
        throw new SerdeError('unknown-schema', `schema id ${id} is unknown to the registry`, e);
      }
      throw new SerdeError('undecodable', `cannot decode with schema id ${id}: ${message}`, e);
    }
  }
}
