import * as avro from 'avsc';
import type * as T from './avro-types';
import { avroType, expandSchema, loadNamedSchemas } from './schemas';
import { AVRO_ROLES, AvroSerde, RegistryUnavailableError, SerdeError, type AvroRole, type TopicValues, type WriterSchemas } from './serde';
import { TOPICS } from './topics';

const named = loadNamedSchemas();
const typeOf = (role: AvroRole) => avroType(TOPICS[role].valueSchema as string, named);

/** Our ids 101.., as a registry would hand them out; ids 201.. are other versions of a subject. */
const IDS = Object.fromEntries(AVRO_ROLES.map((r, i) => [r, 101 + i])) as Record<AvroRole, number>;

/** An in-memory registry: ids → avsc types; counts the look-ups. */
class FakeRegistry implements WriterSchemas {
  readonly calls: number[] = [];
  constructor(readonly schemas: Map<number, avro.Type>) {}
  async getSchema(id: number): Promise<unknown> {
    this.calls.push(id);
    const s = this.schemas.get(id);
    if (!s) throw new Error(`Schema ${id} not found (40403)`);
    return s;
  }
}

function serdeWith(extra: ReadonlyArray<readonly [number, avro.Type]> = []) {
  const types = Object.fromEntries(AVRO_ROLES.map((r) => [r, typeOf(r)])) as Record<AvroRole, avro.Type>;
  const registry = new FakeRegistry(new Map<number, avro.Type>([...AVRO_ROLES.map((r) => [IDS[r], types[r]] as const), ...extra]));
  return { serde: new AvroSerde(registry, IDS, types), registry, types };
}

/** The Confluent wire format, built by hand: magic byte 0, big-endian schema id, Avro body. */
function framed(id: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(id, 1);
  return Buffer.concat([header, body]);
}

const heartbeat: T.PresenceHeartbeat = {
  kind: 'heartbeat', userId: 'u-1', deviceId: 'd-1', sessionId: 's-1', platform: 'web', observedAt: 1_700_000_000_000, idleMs: 1_500, gatewayId: 'gw-1',
};

const SAMPLES: { [R in AvroRole]: TopicValues[R] } = {
  heartbeat,
  override: { kind: 'status', userId: 'u-1', eventId: 'e-1', setAt: 1_700_000_000_000, status: 'DoNotDisturb', customText: 'focus', expiresAt: 1_700_000_600_000, visibility: null, lastSeenPrivacy: null, activity: null, actor: { kind: 'user', id: 'u-1' }, reason: 'focus time' },
  room: { kind: 'join', roomKind: 'doc', roomId: '42', userId: 'u-1', sessionId: 's-1', observedAt: 1_700_000_000_000, metadata: { cursor: '3:14' }, ephemeral: null, ephemeralTtlMs: null },
  snapshot: {
    userId: 'u-1', status: 'Online', statusSince: 1, lastSeen: 2, lastActive: 3, override: { status: 'Busy', customText: null, expiresAt: null },
    visibility: 'everyone', lastSeenPrivacy: 'exact', activities: [], devices: [{ deviceId: 'd-1', sessionId: 's-1', platform: 'ios', gatewayId: 'gw-1', active: false }, { deviceId: 'd-2', sessionId: 's-2', platform: 'web', gatewayId: null, active: true }], version: 7, emittedAt: 4, offlineAt: 9,
  },
  roomSnapshot: { roomKind: 'doc', roomId: '42', members: [{ userId: 'u-1', sessionId: 's-1', joinedAt: 1, lastSeen: 2, metadata: {}, ephemeral: { state: "typing", target: null, expiresAt: 9 } }], version: 3, emittedAt: 5 },
  watermark: { partition: 2, watermark: 1_700_000_000_000, emittedAt: 1_700_000_000_050 },
  journal: { partition: 2, step: 'tick', at: 1_700_000_000_000, input: null, fromOffset: null, nextOffset: null, flushed: true, leaseExpiries: [{ gatewayId: 'gw-1', deadUpTo: 1_699_999_999_000 }] },
  changes: { userId: 'u-1', from: 'Offline', to: 'Online', at: 1, cause: 'event', version: 1 },
  roomChanges: { roomKind: 'doc', roomId: '42', members: [], version: 4, at: 6 },
  gatewayLease: { gatewayId: 'gw-1', startedAt: 1_700_000_000_000, renewedAt: 1_700_000_003_000, leaseMs: 10_000 },
  contacts: { owner: 'u-1', contact: 'u-2', addedAt: 1_700_000_000_000 },
  dlq: {
    sourceTopic: 'presence.heartbeat.v1', sourcePartition: 2, sourceOffset: 41, key: Buffer.from('u-1'), value: Buffer.from([0, 1, 2]),
    errorCode: 'undecodable', field: null, reason: 'not framed', service: 'processor', failedAt: 9,
  },
  notificationRequest: { requestId: 'r-1', userId: 'u-1', channel: 'web-push', bypassDoNotDisturb: false, requestedAt: 1 },
  notificationDecision: { requestId: 'r-1', userId: 'u-1', channel: 'web-push', deliver: true, reason: 'online', status: 'Online', userKnown: true, decidedAt: 2, targetGateways: ['gw-1', 'gw-2'] },
};

/** A version of `role`'s schema edited by `edit` (a newer or an older writer). */
function writerSchema(role: AvroRole, edit: (fields: Array<{ name: string; type: unknown; default?: unknown }>) => void): avro.Type {
  const schema = expandSchema(TOPICS[role].valueSchema as string, named) as { fields: Array<{ name: string; type: unknown; default?: unknown }> };
  edit(schema.fields);
  return avro.Type.forSchema(schema as avro.Schema, { wrapUnions: false });
}

/** Adds a symbol to the enum of `field`. */
const withSymbol = (field: string, symbol: string) => (fields: Array<{ name: string; type: unknown }>) => {
  const f = fields.find((x) => x.name === field) as { type: { symbols: string[] } };
  f.type = { ...f.type, symbols: [...f.type.symbols, symbol] };
};

describe('AvroSerde', () => {
  it.each(AVRO_ROLES.map((r) => [r] as const))('%s: encodes to the Confluent wire format and decodes it back', async (role) => {
    const { serde, types, registry } = serdeWith();
    const value = SAMPLES[role];
    const bytes = serde.encodeSync(role, value as never);
    expect(bytes.equals(framed(IDS[role], types[role].toBuffer(value)))).toBe(true);
    expect((await serde.encode(role, value as never)).equals(bytes)).toBe(true);
    expect(serde.decodeSync(role, bytes)).toEqual(value);
    expect(await serde.decode(role, bytes)).toEqual(value);
    expect(registry.calls).toEqual([]); // our own ids never go to the registry
  });

  it('encodes values larger than its scratch buffer', () => {
    const { serde } = serdeWith();
    const big = { ...SAMPLES.dlq, value: Buffer.alloc(100_000, 7) };
    expect(serde.decodeSync('dlq', serde.encodeSync('dlq', big))).toEqual(big);
    expect(serde.decodeSync('heartbeat', serde.encodeSync('heartbeat', heartbeat))).toEqual(heartbeat);
  });

  it.each([
    ['heartbeat', 'an older writer without the optional gatewayId: read with its default', writerSchema('heartbeat', (f) => f.splice(f.findIndex((x) => x.name === 'gatewayId'), 1)),
      (({ gatewayId: _, ...rest }) => rest)(heartbeat), { ...heartbeat, gatewayId: null }],
    ['heartbeat', 'a newer writer with an extra optional field: read without it', writerSchema('heartbeat', (f) => f.push({ name: 'tenantId', type: ['null', 'string'], default: null })),
      { ...heartbeat, tenantId: 't-9' }, heartbeat],
    ['heartbeat', 'a newer writer with an extra platform: read as the enum default', writerSchema('heartbeat', withSymbol('platform', 'watch')),
      { ...heartbeat, platform: 'watch' }, { ...heartbeat, platform: 'other' }],
    ['changes', 'a newer writer with an extra status: read as the enum default', writerSchema('changes', withSymbol('from', 'Invisible')),
      { ...SAMPLES.changes, to: 'Invisible' }, { ...SAMPLES.changes, to: 'Offline' }],
    ['heartbeat', 'a writer avsc cannot resolve into ours (idleMs a string): read with the writer schema alone, as the registry client did',
      writerSchema('heartbeat', (f) => { Object.assign(f.find((x) => x.name === 'idleMs') as object, { type: 'string', default: '' }); }),
      { ...heartbeat, idleMs: 'soon' }, { ...heartbeat, idleMs: 'soon' }],
  ] as const)('%s from another version of the subject, %s', async (role, _name, writer, written, expected) => {
    const { serde, registry } = serdeWith([[201, writer]]);
    const bytes = framed(201, writer.toBuffer(written));
    expect(serde.decodeSync(role, bytes)).toBeUndefined(); // not fetched yet
    expect(await serde.decode(role, bytes)).toEqual(expected);
    expect(serde.decodeSync(role, bytes)).toEqual(expected); // cached from now on
    expect(await serde.decode(role, bytes)).toEqual(expected);
    expect(registry.calls).toEqual([201]);
  });

  it.each([
    ['null', null, 'undecodable', /not a schema-registry framed Avro value \(0 bytes\)/],
    ['not framed', Buffer.from('definitely not avro'), 'undecodable', /not a schema-registry framed/],
    ['too short', Buffer.from([0, 0, 0, 0, 101]), 'undecodable', /not a schema-registry framed/],
    ['a truncated body', framed(IDS.heartbeat, typeOf('heartbeat').toBuffer(heartbeat).subarray(0, 10)), 'undecodable', /cannot decode with schema id 101/],
    ['trailing bytes', framed(IDS.heartbeat, Buffer.concat([typeOf('heartbeat').toBuffer(heartbeat), Buffer.from([1])])), 'undecodable', /cannot decode with schema id 101/],
    ['another topic\'s schema', framed(IDS.snapshot, typeOf('snapshot').toBuffer(SAMPLES.snapshot)), 'wrong-schema', /PresenceSnapshot, expected presence.v1.PresenceHeartbeat/],
    ['an id the registry does not know', framed(999, Buffer.from([1, 2, 3])), 'unknown-schema', /schema id 999 is unknown to the registry/],
  ])('refuses %s with a SerdeError', async (_name, value, code, reason) => {
    const { serde } = serdeWith();
    const failure = await serde.decode('heartbeat', value).then(() => null, (e: unknown) => e);
    expect(failure).toBeInstanceOf(SerdeError);
    expect({ code: (failure as SerdeError).code, message: (failure as SerdeError).message }).toEqual({ code, message: expect.stringMatching(reason) });
  });

  it('asks the registry once for an id it does not know, then refuses from memory', async () => {
    const { serde, registry } = serdeWith();
    const bytes = framed(999, Buffer.from([1, 2, 3]));
    await expect(serde.decode('heartbeat', bytes)).rejects.toMatchObject({ code: 'unknown-schema' });
    expect(() => serde.decodeSync('heartbeat', bytes)).toThrow(/unknown to the registry/);
    await expect(serde.decode('heartbeat', bytes)).rejects.toMatchObject({ code: 'unknown-schema' });
    expect(registry.calls).toEqual([999]);
  });

  it('a registry that fails otherwise is not remembered: the next record asks again', async () => {
    const { serde, registry } = serdeWith();
    registry.getSchema = async (id) => {
      registry.calls.push(id);
      throw new Error('connect ECONNREFUSED');
    };
    const bytes = framed(202, Buffer.from([1, 2, 3]));
    // Not the record's fault: retriable, never a dead letter (it was 'undecodable' before).
    await expect(serde.decode('heartbeat', bytes)).rejects.toMatchObject({ code: 'registry-unavailable', retriable: true });
    await expect(serde.decode('heartbeat', bytes)).rejects.toMatchObject({ code: 'registry-unavailable', retriable: true });
    expect(registry.calls).toEqual([202, 202]);
  });

  it.each([
    ['a missing field', (({ userId: _, ...rest }) => rest)(heartbeat)],
    ['a wrong type', { ...heartbeat, idleMs: 'soon' }],
    ['an unknown enum symbol', { ...heartbeat, platform: 'watch' }],
  ])('refuses to encode a value with %s', (_name, value) => {
    const { serde } = serdeWith();
    expect(() => serde.encodeSync('heartbeat', value as never)).toThrow(SerdeError);
    expect(() => serde.encodeSync('heartbeat', value as never)).toThrow(/cannot encode heartbeat/);
  });
});

describe('AvroSerde when the registry cannot be asked', () => {
  it('a registry outage is a retriable RegistryUnavailableError, not a SerdeError, and is not remembered', async () => {
    const writer = writerSchema('heartbeat', (f) => f.push({ name: 'tenantId', type: ['null', 'string'], default: null }));
    const { serde, registry } = serdeWith([[201, writer]]);
    const bytes = framed(201, writer.toBuffer({ ...heartbeat, tenantId: null }));
    const real = registry.getSchema.bind(registry);
    registry.getSchema = async (id: number) => {
      registry.calls.push(id);
      throw new Error('connect ECONNREFUSED 127.0.0.1:8081');
    };
    const failure = await serde.decode('heartbeat', bytes).then(() => null, (e: unknown) => e);
    expect(failure).toBeInstanceOf(RegistryUnavailableError);
    expect(failure).not.toBeInstanceOf(SerdeError);
    expect(failure).toMatchObject({ code: 'registry-unavailable', retriable: true, message: expect.stringMatching(/schema id 201: connect ECONNREFUSED/) });
    registry.getSchema = real; // back up: the same record now decodes
    expect(await serde.decode('heartbeat', bytes)).toEqual(heartbeat);
    expect(registry.calls).toEqual([201, 201]);
  });

  it('an id whose schema is not Avro is undecodable', async () => {
    const { serde, registry } = serdeWith();
    registry.getSchema = async () => ({ type: 'PROTOBUF', schema: 'message X {}' });
    const failure = await serde.decode('heartbeat', framed(301, Buffer.from([1]))).then(() => null, (e: unknown) => e);
    expect(failure).toBeInstanceOf(SerdeError);
    expect((failure as SerdeError).code).toBe('undecodable');
  });
});
