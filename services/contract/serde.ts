/**
 * Avro values through the Confluent-API schema registry (wire format: magic byte, schema id, body).
 * Schemas are registered from schemas/ with BACKWARD compatibility, one subject per topic value.
 */
import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import * as avro from 'avsc';
import TimeoutMiddleware from 'mappersmith/middleware/timeout';
import type * as T from './avro-types';
import { expandSchema, loadNamedSchemas } from './schemas';
import { TOPICS, valueSubject, type TopicRole } from './topics';
import { BufferSlab } from '../platform/buffer-slab';

/** The value type of each topic that carries a registered Avro schema. */
export interface TopicValues {
  heartbeat: T.PresenceHeartbeat;
  override: T.PresenceOverride;
  room: T.RoomEvent;
  snapshot: T.PresenceSnapshot;
  roomSnapshot: T.RoomSnapshot;
  watermark: T.ProcessorWatermark;
  journal: T.ProcessorJournalEntry;
  changes: T.PresenceChange;
  roomChanges: T.RoomChange;
  gatewayLease: T.GatewayLease;
  contacts: T.ContactEntry;
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

/**
 * The registry could not be asked (down, unreachable, 5xx): not the record's fault, so it must not
 * be dead-lettered. Consumers let it escape their batch handler; kafkajs retries the batch from the
 * last resolved offset (replays are idempotent merges).
 */
export class RegistryUnavailableError extends Error {
  readonly code = 'registry-unavailable';
  readonly retriable = true;
  constructor(message: string, readonly cause?: unknown) {
    super(message);
  }
}

/** Each registry request's deadline (generous: a registry under load can take seconds): the client has none, so a registry that stops answering hung a start for good. */
export const REGISTRY_REQUEST_TIMEOUT_MS = 30_000;

export function createRegistry(url: string, requestTimeoutMs = REGISTRY_REQUEST_TIMEOUT_MS): SchemaRegistry {
  // Unwrapped unions: a nullable field reads as `T | null`, matching the generated types.
  return new SchemaRegistry(
    { host: url, middlewares: [TimeoutMiddleware(requestTimeoutMs)] },
    { [SchemaType.AVRO]: { wrapUnions: false } },
  );
}

/** Registers every topic's schema (idempotent: same schema, same id) and returns ids by role. */
export async function registerSchemas(registry: SchemaRegistry, prefix = ''): Promise<Record<AvroRole, number>> {
  const named = loadNamedSchemas();
  const ids = {} as Record<AvroRole, number>;
  for (const role of AVRO_ROLES) {
    const schema = JSON.stringify(expandSchema(TOPICS[role].valueSchema as string, named));
    ids[role] = await registerOne(registry, schema, valueSubject(role, prefix));
  }
  return ids;
}

/**
 * The registry client registers a new subject, then sets its compatibility: a second process
 * registering the same new subject in between reads the registry's default level (NONE) and the
 * client refuses (ConfluentSchemaRegistryCompatibilityError), or both set it and the second is
 * refused. Services starting together on a fresh prefix do that (the bench's capacity phase did),
 * so these are retried for a while: the first registrant's BACKWARD is in a moment later. A subject
 * that keeps another level is an error.
 */
async function registerOne(registry: SchemaRegistry, schema: string, subject: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { id } = await registry.register({ type: SchemaType.AVRO, schema }, { subject, compatibility: COMPATIBILITY.BACKWARD });
      return id;
    } catch (e) {
      const race = isRegistrationRace(e);
      if (!race && !isTransientRegistryError(e)) throw e;
      const attempts = race ? COMPATIBILITY_RACE_ATTEMPTS : TRANSIENT_ATTEMPTS;
      if (attempt >= attempts) throw new Error(`subject ${subject}: ${String((e as Error).message)} after ${attempt} attempts`);
      if (race && attempt >= UNSET_LEVEL_AFTER_ATTEMPTS && /!= NONE\)/.test(String((e as Error).message))) await setBackward(registry, subject);
      await new Promise((r) => setTimeout(r, race ? 100 * attempt : 1_000 * attempt));
    }
  }
}

/**
 * Either side of two first registrations of one subject: the level read between the other's
 * register and its config write, or the config write that comes second (Apicurio: "A rule named
 * 'COMPATIBILITY' already exists"). Both settle once the first registrant's config is in.
 */
function isRegistrationRace(e: unknown): boolean {
  const err = e as { name?: string; message?: string } | null;
  return err?.name === 'ConfluentSchemaRegistryCompatibilityError' || /rule named 'COMPATIBILITY' already exists/i.test(String(err?.message ?? ''));
}

/** Attempts while a concurrent first registration sets the subject's compatibility (~4.5 s in all). */
const COMPATIBILITY_RACE_ATTEMPTS = 10;

/**
 * A registration that timed out, or found the registry unreachable or failing (5xx), is sent again:
 * registering is idempotent (the same schema gets the same id), and a registry that stalls for one
 * request under load (seen here with Apicurio on H2 when every test suite provisions at once) or
 * restarts would otherwise fail a service's start.
 */
function isTransientRegistryError(e: unknown): boolean {
  const err = e as { status?: number; message?: string; code?: string } | null;
  const status = typeof err?.status === 'number' ? err.status : null;
  if (status !== null && status >= 500) return true;
  return /Timeout \(\d+ms\)|ECONNREFUSED|ECONNRESET|EPIPE|socket hang up|status 5\d\d/i.test(`${err?.code ?? ''} ${String(err?.message ?? '')}`);
}

/**
 * The client sets a new subject's level after registering it; when that second request fails (a
 * registry stall), the subject stays at the registry's default, NONE, and every later registration
 * is refused for good (the bench's offline phase died on it). A subject still at NONE once a
 * concurrent first registrant has had its moment (~1 s) is given BACKWARD here, as provisioning
 * means it to be; a subject set to any other level stays an error.
 */
const UNSET_LEVEL_AFTER_ATTEMPTS = 4;

async function setBackward(registry: SchemaRegistry, subject: string): Promise<void> {
  try {
    // The client's own request for this (private in its types; the same call register() makes).
    const api = (registry as unknown as { api: { Subject: { updateConfig(o: { subject: string; body: { compatibility: string } }): Promise<unknown> } } }).api;
    await api.Subject.updateConfig({ subject, body: { compatibility: COMPATIBILITY.BACKWARD } });
  } catch (e) {
    if (!isRegistrationRace(e) && !isTransientRegistryError(e)) throw e; // someone else set it meanwhile, or retried next attempt
  }
}

/** Attempts of a registration that meets a transient registry error (backing off 1, 2, … s). */
const TRANSIENT_ATTEMPTS = 4;

/** Where the serde finds the writer schema of an id it has not seen (the registry, or a test double). */
export interface WriterSchemas {
  getSchema(id: number): Promise<unknown>;
}

const HEADER_BYTES = 5;

/**
 * Encodes with the ids this process registered; decodes any id the registry knows.
 *
 * Every value is framed as the Confluent wire format (magic byte 0, big-endian schema id, Avro body)
 * and coded synchronously with avsc on a type cached per schema id: the registry client's own
 * encode/decode cost a promise chain per record, which was most of the processor's decode/encode
 * time. The registry is asked only once per schema id (for our own ids at start; for another id the
 * first time a record carries it).
 *
 * A value written with our own id is read with our type. One written with another version of the
 * subject is resolved from the writer's schema into ours (an older writer's missing fields take
 * their defaults, a newer writer's extra fields are dropped); when avsc cannot resolve the two (e.g.
 * a newer writer added an enum symbol) it is read with the writer's schema alone, as before.
 */
export class AvroSerde {
  private readonly accepted = new Map<number, AvroRole>();
  private readonly unknownIds = new Set<number>();
  /** Schema id → the type that decodes it, per reader role (only for ids other than our own). */
  private readonly readers = new Map<number, Map<AvroRole, (body: Buffer) => unknown>>();
  private readonly headers = {} as Record<AvroRole, Buffer>;
  /** Encoded records are short-lived (until sent): encoded into slabs, not a Buffer each. */
  private readonly slab = new BufferSlab();

  constructor(
    private readonly registry: WriterSchemas,
    private readonly ids: Record<AvroRole, number>,
    /** The avsc type of each role, as the registry holds it under `ids[role]`. */
    private readonly types: Record<AvroRole, avro.Type>,
  ) {
    for (const role of AVRO_ROLES) {
      this.accepted.set(ids[role], role);
      const header = Buffer.alloc(HEADER_BYTES);
      header.writeInt32BE(ids[role], 1);
      this.headers[role] = header;
    }
  }

  static async create(registry: SchemaRegistry, prefix = ''): Promise<AvroSerde> {
    const ids = await registerSchemas(registry, prefix);
    const types = {} as Record<AvroRole, avro.Type>;
    // The registry's copy of each schema (as its client encoded with before), not our local file.
    for (const role of AVRO_ROLES) types[role] = asAvroType(await registry.getSchema(ids[role]), ids[role]);
    return new AvroSerde(registry, ids, types);
  }

  /** Encodes synchronously: magic byte, our schema id of `role`, Avro body. */
  encodeSync<R extends AvroRole>(role: R, value: TopicValues[R]): Buffer {
    try {
      return this.slab.encode(this.headers[role], this.types[role], value);
    } catch (e) {
      throw new SerdeError('unencodable', `cannot encode ${role}: ${(e as Error).message}`, e);
    }
  }

  encode<R extends AvroRole>(role: R, value: TopicValues[R]): Promise<Buffer> {
    try {
      return Promise.resolve(this.encodeSync(role, value));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Decodes synchronously when the schema id is our own or was seen before; `undefined` when its
   * writer schema must first be fetched (then call `decode`). Throws SerdeError like `decode`.
   */
  decodeSync<R extends AvroRole>(role: R, buffer: Buffer | null): TopicValues[R] | undefined {
    const id = this.frameId(role, buffer);
    if (id === this.ids[role]) return this.readOwn(id, this.types[role], buffer as Buffer) as TopicValues[R];
    const reader = this.readers.get(id)?.get(role);
    const body = (buffer as Buffer).subarray(HEADER_BYTES);
    return reader === undefined ? undefined : (this.read(id, () => reader(body)) as TopicValues[R]);
  }

  /**
   * Decodes a value written with the schema of `role` (any registered version of its subject that
   * this process knows, or one the registry resolves). Never hangs on a poison record: an id the
   * registry refused once is refused from memory afterwards.
   */
  async decode<R extends AvroRole>(role: R, buffer: Buffer | null): Promise<TopicValues[R]> {
    const known = this.decodeSync(role, buffer);
    if (known !== undefined) return known;
    const id = (buffer as Buffer).readInt32BE(1);
    let schema: unknown;
    try {
      schema = await this.registry.getSchema(id);
    } catch (e) {
      const message = (e as Error).message ?? String(e);
      if (/not found|404|40403/i.test(message)) {
        this.unknownIds.add(id);
        throw new SerdeError('unknown-schema', `schema id ${id} is unknown to the registry`, e);
      }
      throw new RegistryUnavailableError(`the schema registry did not answer for schema id ${id}: ${message}`, e);
    }
    let writer: avro.Type;
    try {
      writer = asAvroType(schema, id);
    } catch (e) {
      throw new SerdeError('undecodable', `cannot decode with schema id ${id}: ${(e as Error).message}`, e);
    }
    const byRole = this.readers.get(id) ?? new Map<AvroRole, (body: Buffer) => unknown>();
    this.readers.set(id, byRole);
    if (!byRole.has(role)) byRole.set(role, readerFor(this.types[role], writer));
    return this.decodeSync(role, buffer) as TopicValues[R];
  }

  /** Checks the framing and the id against what is known; returns the schema id. */
  private frameId(role: AvroRole, buffer: Buffer | null): number {
    if (!buffer || buffer.length < 6 || buffer[0] !== 0) {
      throw new SerdeError('undecodable', `not a schema-registry framed Avro value (${buffer?.length ?? 0} bytes)`);
    }
    const id = buffer.readInt32BE(1);
    if (this.unknownIds.has(id)) throw new SerdeError('unknown-schema', `schema id ${id} is unknown to the registry`);
    const known = this.accepted.get(id);
    if (known !== undefined && known !== role) {
      throw new SerdeError('wrong-schema', `schema id ${id} is ${TOPICS[known].valueSchema}, expected ${TOPICS[role].valueSchema}`);
    }
    return id;
  }

  /**
   * A value of our own schema, read in place after the header: the processor decodes one per input
   * record, and the body's Buffer view and the closure of `read` were a quarter of its allocations
   * per event. The same checks as avsc's fromBuffer (truncated, trailing data).
   */
  private readOwn(id: number, type: avro.Type, buffer: Buffer): unknown {
    let decoded: { value: unknown; offset: number };
    try {
      decoded = type.decode(buffer, HEADER_BYTES);
    } catch (e) {
      throw new SerdeError('undecodable', `cannot decode with schema id ${id}: ${(e as Error).message ?? String(e)}`, e);
    }
    if (decoded.offset < 0) throw new SerdeError('undecodable', `cannot decode with schema id ${id}: truncated buffer`);
    if (decoded.offset < buffer.length) throw new SerdeError('undecodable', `cannot decode with schema id ${id}: trailing data`);
    return decoded.value;
  }

  private read(id: number, fn: () => unknown): unknown {
    try {
      return fn();
    } catch (e) {
      throw new SerdeError('undecodable', `cannot decode with schema id ${id}: ${(e as Error).message ?? String(e)}`, e);
    }
  }
}

function asAvroType(schema: unknown, id: number): avro.Type {
  if (!avro.Type.isType(schema)) throw new Error(`schema id ${id} is not an Avro schema`);
  return schema as avro.Type;
}

/** Reads `writer`'s bodies as `reader` when avsc can resolve them, else as `writer` alone. */
export function readerFor(reader: avro.Type, writer: avro.Type): (body: Buffer) => unknown {
  let resolver: avro.Resolver;
  try {
    resolver = reader.createResolver(writer);
  } catch {
    return (body) => writer.fromBuffer(body);
  }
  return (body) => reader.fromBuffer(body, resolver);
}
