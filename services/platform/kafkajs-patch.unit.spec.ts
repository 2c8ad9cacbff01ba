/**
 * The kafkajs patch (infra/patches/kafkajs+2.2.4.patch, applied by patch-package at install) changes
 * how the producer encodes records and groups them by partition, not what goes on the wire: its
 * records are byte for byte what kafkajs' own Encoder primitives write for the Record layout (the
 * original code path), they decode with kafkajs' own record decoder, and grouping keeps each
 * partition's messages in order.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import { readFileSync } from 'node:fs';

const Encoder = require('kafkajs/src/protocol/encoder') as new () => KjsEncoder;
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => unknown;
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: object) => KjsEncoder;
const decodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as (d: unknown, ctx: object) => { key: Buffer | null; value: Buffer | null; offset: string; timestamp: string; headers: object };
const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition') as (o: object) => Record<string, Array<{ n: number }>>;

interface KjsEncoder {
  buffer: Buffer;
  writeVarInt(v: number): KjsEncoder;
  writeInt8(v: number): KjsEncoder;
  writeVarLong(v: number): KjsEncoder;
  writeVarIntBytes(v: unknown): KjsEncoder;
  writeVarIntArray(v: unknown[]): KjsEncoder;
}

/** The Record layout as the unpatched module wrote it, for a record without headers. */
function reference(offsetDelta: number, timestampDelta: number, key: unknown, value: unknown): Buffer {
  const body = new Encoder().writeInt8(0).writeVarLong(timestampDelta).writeVarInt(offsetDelta).writeVarIntBytes(key).writeVarIntBytes(value).writeVarIntArray([]).buffer;
  return Buffer.concat([new Encoder().writeVarInt(body.length).buffer, body]);
}

const cases: Array<[string, number, number, unknown, unknown]> = [
  ['string key, buffer value', 0, 0, 'user-1', Buffer.from('value')],
  ['null key (no key)', 3, 17, null, Buffer.from('v')],
  ['null value (a tombstone)', 5, 1, 'u/user-2', null],
  ['buffer key, empty value', 1, 0, Buffer.from('k'), Buffer.alloc(0)],
  ['multi-byte utf-8 key', 2, 9, 'ünïcødé-👋', Buffer.from('x')],
  ['string value', 4, 3, 'k', 'a string value'],
  ['negative timestamp delta', 7, -250, 'k', Buffer.from('v')],
  ['delta at the int32 edge', 2_147_483_647, 2_147_483_647, 'k', Buffer.from('v')],
  ['negative int32 edge', 0, -2_147_483_648, 'k', Buffer.from('v')],
  ['value of 127 bytes (one-byte length)', 63, 64, 'k', Buffer.alloc(63, 1)],
  ['value of 64 bytes (two-byte zigzag length)', 64, 8191, 'k', Buffer.alloc(64, 2)],
  ['value of 16 KiB', 8192, 1_000_000, 'k', Buffer.alloc(16_384, 3)],
  ['timestamp delta beyond int32 (original path)', 1, 5_000_000_000, 'k', Buffer.from('v')],
];

describe('kafkajs patch: record encoding', () => {
  it.each(cases)('%s: the same bytes as the original layout, and kafkajs decodes it', (_name, offsetDelta, timestampDelta, key, value) => {
    const bytes = Record({ offsetDelta, timestampDelta, key, value }).buffer;
    expect(bytes.equals(reference(offsetDelta, timestampDelta, key, value))).toBe(true);
    const decoder = new Decoder(bytes) as { readVarInt(): number };
    decoder.readVarInt(); // the record's length prefix, read by the batch decoder before it
    const r = decodeRecord(decoder, { firstOffset: '100', firstTimestamp: '1700000000000', magicByte: 2 });
    expect(r.offset).toBe(String(100 + offsetDelta));
    expect(r.timestamp).toBe(String(1_700_000_000_000 + timestampDelta));
    const asBuffer = (v: unknown) => (v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(String(v)));
    expect(r.key).toEqual(asBuffer(key));
    expect(r.value).toEqual(asBuffer(value));
    expect(r.headers).toEqual({});
  });

  it('records with headers keep the original path', () => {
    const bytes = Record({ offsetDelta: 1, timestampDelta: 2, key: 'k', value: Buffer.from('v'), headers: { trace: 'abc', multi: ['1', '2'] } }).buffer;
    const decoder = new Decoder(bytes) as { readVarInt(): number };
    decoder.readVarInt();
    const r = decodeRecord(decoder, { firstOffset: '0', firstTimestamp: '0', magicByte: 2 });
    expect(r.headers).toEqual({ trace: Buffer.from('abc'), multi: [Buffer.from('1'), Buffer.from('2')] });
  });
});

describe('kafkajs patch: installed', () => {
  it.each(['src/protocol/recordBatch/v0/decoder.js', 'src/producer/groupMessagesPerPartition.js', 'src/protocol/requests/produce/v3/request.js', 'src/protocol/recordBatch/record/v0/index.js', 'src/protocol/recordBatch/crc32C/index.js', 'src/protocol/recordBatch/record/v0/decoder.js', 'src/consumer/batch.js', 'src/protocol/request.js', 'src/network/connection.js'])('%s is the patched file (npm ci ran patch-package)', (file) => {
    expect(readFileSync(require.resolve(`kafkajs/${file}`), 'utf8')).toContain('Patched (infra/patches/kafkajs+2.2.4.patch)');
  });
});

describe('kafkajs patch: record decoding', () => {
  const decodeAt = (offsetDelta: number, timestampDelta: number, ctx: object) => {
    const decoder = new Decoder(Record({ offsetDelta, timestampDelta, key: 'k', value: Buffer.from('v') }).buffer) as { readVarInt(): number };
    decoder.readVarInt();
    return decodeRecord(decoder, { magicByte: 2, ...ctx });
  };
  it.each<[string, string, string, number, number]>([
    ['small bases', '0', '0', 3, 5],
    ['epoch-millisecond timestamps', '123456789', '1700000000000', 4_095, -1_000],
    ['offsets past 2^53 (the BigInt path)', '9007199254740000', '1700000000000', 2_147_483_647, 1],
    ['a timestamp delta beyond 28 bits', '10', '1700000000000', 1, 5_000_000_000],
    ['near 2^63', '9223372036854775000', '-1', 7, -7],
  ])('%s: offset and timestamp exactly the bases plus the deltas', (_name, firstOffset, firstTimestamp, offsetDelta, timestampDelta) => {
    const r = decodeAt(offsetDelta, timestampDelta, { firstOffset, firstTimestamp });
    expect(r.offset).toBe((BigInt(firstOffset) + BigInt(offsetDelta)).toString());
    expect(r.timestamp).toBe((BigInt(firstTimestamp) + BigInt(timestampDelta)).toString());
  });
  it('log-append time: the batch\'s max timestamp, and the offset still right after a long delta', () => {
    const r = decodeAt(9, 5_000_000_000, { firstOffset: '100', firstTimestamp: '1', timestampType: 1, maxTimestamp: '1700000000123' });
    expect([r.offset, r.timestamp]).toEqual(['109', '1700000000123']);
  });
  it('a batch holds its records in `messages` alone, and its offsets survive releasing them', () => {
    const Batch = require('kafkajs/src/consumer/batch') as new (topic: string, fetched: string, data: object) => Record<string, unknown> & {
      messages: Array<{ offset: string } | undefined>; firstOffset(): string | null; lastOffset(): string; isEmpty(): boolean; isEmptyIncludingFiltered(): boolean;
      isEmptyDueToFiltering(): boolean; isEmptyControlRecord(): boolean; isEmptyDueToLogCompactedMessages(): boolean;
    };
    const raw = ['8', '9', '10', '11', '12'].map((offset) => ({ offset, isControlRecord: offset === '12' }));
    const batch = new Batch('t', '10', { partition: 0, highWatermark: '13', abortedTransactions: [], messages: raw });
    expect(batch.messages.map((m) => m?.offset)).toEqual(['10', '11']);
    // No other array of the batch refers to the records (a consumer may drop them as it goes).
    for (const v of Object.values(batch)) if (Array.isArray(v) && v !== batch.messages) expect(v).not.toContain(raw[2]);
    batch.messages[0] = undefined;
    batch.messages[1] = undefined;
    expect([batch.firstOffset(), batch.lastOffset()]).toEqual(['10', '12']);
    expect([batch.isEmpty(), batch.isEmptyIncludingFiltered(), batch.isEmptyDueToFiltering()]).toEqual([false, false, false]);
    const onlyControl = new Batch('t', '12', { partition: 0, highWatermark: '13', abortedTransactions: [], messages: raw });
    expect([onlyControl.isEmpty(), onlyControl.isEmptyControlRecord(), onlyControl.isEmptyDueToFiltering(), onlyControl.lastOffset()]).toEqual([true, true, true, '12']);
    const compacted = new Batch('t', '20', { partition: 0, highWatermark: '21', abortedTransactions: [], messages: raw });
    expect([compacted.isEmptyDueToLogCompactedMessages(), compacted.firstOffset(), compacted.lastOffset()]).toEqual([true, null, '20']);
    const empty = new Batch('t', '5', { partition: 0, highWatermark: '9', abortedTransactions: [], messages: [] });
    expect([empty.isEmptyIncludingFiltered(), empty.isEmptyDueToFiltering(), empty.lastOffset()]).toEqual([true, false, '8']);
  });

  it('a batch keeps the records at or above the fetched offset', () => {
    const Batch = require('kafkajs/src/consumer/batch') as new (topic: string, fetched: string, data: object) => { messages: Array<{ offset: string }> };
    const messages = ['8', '9', '10', '11'].map((offset) => ({ offset, isControlRecord: false }));
    expect(new Batch('t', '10', { partition: 0, highWatermark: '12', abortedTransactions: [], messages }).messages.map((m) => m.offset)).toEqual(['10', '11']);
    const big = ['9007199254740993', '9007199254740994'].map((offset) => ({ offset, isControlRecord: false }));
    expect(new Batch('t', '9007199254740994', { partition: 0, highWatermark: '0', abortedTransactions: [], messages: big }).messages.map((m) => m.offset)).toEqual(['9007199254740994']);
  });
});

describe('kafkajs patch: a batch\'s records decoded in place', () => {
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (o: object) => Promise<{ buffer: Buffer }> };
  const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (d: unknown) => Promise<{ records: Array<{ key: Buffer | null; value: Buffer | null; offset: string; timestamp: string; headers: object }> }>;
  it('records with and without headers, keys, values and tombstones: each decoded whole, the next from where it ends', async () => {
    const input = [
      { key: 'a', value: Buffer.from('first'), headers: {} },
      { key: 'b', value: Buffer.from('second'), headers: { trace: 'abc', multi: ['1', '2'] } },
      { key: null, value: Buffer.alloc(300, 7), headers: {} },
      { key: 'd', value: null, headers: { only: 'one' } },
      { key: 'e', value: Buffer.from('last'), headers: {} },
    ];
    const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: object) => unknown;
    const batch = await RecordBatch({
      firstOffset: '40', firstTimestamp: 1_700_000_000_000, maxTimestamp: 1_700_000_000_004, lastOffsetDelta: input.length - 1,
      records: input.map((r, i) => Record({ offsetDelta: i, timestampDelta: i, ...r })),
    });
    const { records } = await decodeBatch(new Decoder(batch.buffer));
    expect(records.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString('hex') ?? null])).toEqual(
      input.map((r, i) => [String(40 + i), String(1_700_000_000_000 + i), r.key, r.value?.toString('hex') ?? null]),
    );
    expect(records.map((r) => r.headers)).toEqual([{}, { trace: Buffer.from('abc'), multi: [Buffer.from('1'), Buffer.from('2')] }, {}, { only: Buffer.from('one') }, {}]);
  });
  it('a decoded record holds numbers over the batch: its key and value views of the fetched bytes, made on each read; JSON gives the original shape', async () => {
    const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: object) => unknown;
    const batch = await RecordBatch({
      firstOffset: '7', firstTimestamp: 1_700_000_000_000, maxTimestamp: 1_700_000_000_001, lastOffsetDelta: 1,
      records: [Record({ offsetDelta: 0, timestampDelta: 0, key: 'k', value: Buffer.from('v1') }), Record({ offsetDelta: 1, timestampDelta: 1, key: null, value: null })],
    });
    const body = batch.buffer;
    const { records } = await decodeBatch(new Decoder(body));
    const [first, tombstone] = records as unknown as Array<Record<string, unknown> & { key: Buffer | null; value: Buffer | null; toJSON(): object }>;
    // Own fields: no Buffer view or string per record until one is read; `buffer` is the batch's bytes.
    expect(Object.entries(first!).filter(([k, v]) => k !== 'buffer' && (typeof v === 'string' || Buffer.isBuffer(v)))).toEqual([]);
    expect((first!.buffer as Buffer).buffer).toBe(body.buffer);
    expect(tombstone!.buffer).toBe(first!.buffer);
    expect([first!.offsetValue, first!.timestampValue]).toEqual([7, 1_700_000_000_000]);
    const value = first!.value as Buffer;
    expect(value.buffer).toBe(body.buffer); // a view, as the original's slice
    expect(first!.value).not.toBe(value);
    expect(first!.value).toEqual(value);
    expect([tombstone!.key, tombstone!.value]).toEqual([null, null]);
    expect(JSON.parse(JSON.stringify(first))).toMatchObject({ offset: '7', timestamp: '1700000000000', key: { type: 'Buffer', data: [...Buffer.from('k')] }, value: { type: 'Buffer', data: [...Buffer.from('v1')] }, headers: {} });
  });

  it('a record whose length runs past its batch is a partial message (the fetch stops there), not a misread', async () => {
    const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: object) => unknown;
    const batch = await RecordBatch({ firstOffset: '0', firstTimestamp: 0, maxTimestamp: 0, lastOffsetDelta: 0, records: [Record({ key: 'k', value: Buffer.from('v') })] });
    // The record is the batch's last bytes; its length prefix (one zigzag varint byte) sits just before them.
    const bytes = Buffer.from(batch.buffer);
    const recordLength = Record({ key: 'k', value: Buffer.from('v') }) as { buffer: Buffer };
    const at = bytes.length - recordLength.buffer.length;
    expect(bytes.readInt8(at)).toBe((recordLength.buffer.length - 1) * 2); // zigzag of the body's length
    bytes.writeInt8(100, at); // claims 50 bytes
    await expect(decodeBatch(new Decoder(bytes))).rejects.toThrow('partial record');
  });
});

describe('kafkajs patch: record batch checksum', () => {
  const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C') as (b: Buffer) => number;
  const jsCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C') as (b: Buffer) => number;
  it.each([0, 1, 7, 300, 65_537])('native CRC32C of %i bytes equals kafkajs\' own', (n) => {
    const b = Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff));
    expect(crc32C(b)).toBe(jsCrc32C(b) >>> 0);
  });
  it('uses the native addon here (the JS loop is only a fallback)', () => {
    expect(() => require('@node-rs/crc32')).not.toThrow();
  });
  it('the check value of CRC-32C ("123456789" → 0xE3069283)', () => {
    expect(crc32C(Buffer.from('123456789'))).toBe(0xe3069283);
  });
});

describe('kafkajs patch: grouping by partition', () => {
  it('keeps every message, each partition in send order', () => {
    const messages = Array.from({ length: 5_000 }, (_, n) => ({ n, partition: (n * 7) % 6 }));
    const grouped = groupMessagesPerPartition({
      topic: 't', partitionMetadata: [{ partitionId: 0 }], messages, partitioner: ({ message }: { message: { partition: number } }) => message.partition,
    });
    expect(Object.keys(grouped).sort()).toEqual(['0', '1', '2', '3', '4', '5']);
    for (const [p, list] of Object.entries(grouped)) {
      expect(list.map((m) => m.n)).toEqual(messages.filter((m) => String(m.partition) === p).map((m) => m.n));
    }
  });

  it('no partitions known: nothing grouped (kafkajs then refreshes metadata)', () => {
    expect(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages: [{ n: 1 }], partitioner: () => 0 })).toEqual({});
  });
});

describe('kafkajs patch: a partition written straight into its request buffer', () => {
  const Long = require('kafkajs/src/utils/long') as { fromValue(v: unknown): unknown; fromInt(v: number): unknown };
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (o: object) => Promise<KjsEncoder & { size(): number }> };
  const { directPartition } = require('kafkajs/src/protocol/requests/produce/v3/request') as {
    directPartition: (partition: number, messages: object[], dateNow: number, first: number, max: number, producerId: unknown, epoch: number, sequence: number, transactional: boolean) => KjsEncoder | null;
  };
  type Message = { key: unknown; value: unknown; timestamp?: number; headers?: object };

  /** The partition as kafkajs' unpatched path encodes it: a Record each, RecordBatch, then partition and size. */
  async function reference(partition: number, messages: Message[], dateNow: number, producerId: unknown, epoch: number, sequence: number, transactional: boolean): Promise<Buffer> {
    const stamps = messages.map((m) => m.timestamp ?? dateNow);
    const first = Math.min(...stamps);
    const records = messages.map((m, i) => Record({ key: m.key, value: m.value, offsetDelta: i, timestampDelta: (m.timestamp ?? dateNow) - first }));
    const batch = await RecordBatch({ records, firstTimestamp: first, maxTimestamp: Math.max(...stamps), producerId, producerEpoch: epoch, firstSequence: sequence, transactional, lastOffsetDelta: records.length - 1 });
    const e = new Encoder() as unknown as { writeInt32(v: number): { writeInt32(v: number): { writeEncoder(e: unknown): KjsEncoder } } };
    return e.writeInt32(partition).writeInt32(batch.size()).writeEncoder(batch).buffer;
  }

  const now = 1_700_000_000_000;
  const sets: Array<[string, Message[], boolean]> = [
    ['one record', [{ key: 'user-1', value: Buffer.from('v') }], false],
    ['keys of every kind, tombstones, string values', [
      { key: 'ünïcødé-👋', value: Buffer.alloc(300, 7) }, { key: null, value: Buffer.from('x') }, { key: Buffer.from('bk'), value: null },
      { key: '', value: Buffer.alloc(0) }, { key: 'k', value: 'a string value' },
    ], false],
    ['explicit timestamps out of order (first and max from them)', [
      { key: 'a', value: Buffer.from('1'), timestamp: now + 50 }, { key: 'b', value: Buffer.from('2'), timestamp: now - 7 }, { key: 'c', value: Buffer.from('3'), timestamp: now },
    ], false],
    ['transactional, 4,096 records (multi-byte offset deltas)', Array.from({ length: 4_096 }, (_, i) => ({ key: `u${i}`, value: Buffer.alloc(i % 200, i & 0xff) })), true],
  ];

  it.each(sets)('%s: the same bytes as RecordBatch', async (_name, messages, transactional) => {
    const stamps = messages.map((m) => m.timestamp ?? now);
    const producerId = Long.fromValue(4242);
    const direct = directPartition(3, messages, now, Math.min(...stamps), Math.max(...stamps), producerId, 5, 77, transactional);
    expect(direct).not.toBeNull();
    expect((direct as KjsEncoder).buffer.equals(await reference(3, messages, now, producerId, 5, 77, transactional))).toBe(true);
  });

  it.each<[string, Message[]]>([
    ['a record with headers', [{ key: 'k', value: Buffer.from('v') }, { key: 'k', value: Buffer.from('v'), headers: { h: 'x' } }]],
    ['a timestamp delta beyond int32', [{ key: 'k', value: Buffer.from('v'), timestamp: now }, { key: 'k', value: Buffer.from('v'), timestamp: now + 5_000_000_000 }]],
    ['a key that is neither string nor buffer', [{ key: 42, value: Buffer.from('v') }]],
  ])('%s: left to the original path', (_name, messages) => {
    expect(directPartition(0, messages, now, now, now, Long.fromInt(-1), 0, 0, false)).toBeNull();
  });
});

describe('kafkajs patch: a produce request kept in its parts', () => {
  type Enc = { writeString(v: string | null): Enc; writeInt16(v: number): Enc; writeInt32(v: number): Enc; writeArray(v: unknown[]): Enc; writeEncoder(e: unknown): Enc; buffer: Buffer };
  const E = () => new Encoder() as unknown as Enc;
  const Long = require('kafkajs/src/utils/long') as { fromInt(v: number): unknown };
  const ProduceV3 = require('kafkajs/src/protocol/requests/produce/v3/request') as (o: object) => { apiKey: number; apiVersion: number; encode(): Promise<{ parts: Buffer[]; size(): number; buffer: Buffer }> };
  const createRequest = require('kafkajs/src/protocol/request') as (o: object) => Promise<{ parts?: Buffer[]; length: number; buffer: Buffer }>;

  /** The request as the unpatched module framed it: encoders nested by writeArray, then size and header. */
  function reference(o: { transactionalId: string | null; acks: number; timeout: number; correlationId: number; clientId: string }, topics: Array<{ topic: string; partitions: Buffer[] }>, apiKey: number, apiVersion: number): Buffer {
    const bytes = (b: Buffer) => ({ buf: b, buffer: b }); // an encoder's shape, for writeArray
    const topicEncoders = topics.map((t) => E().writeString(t.topic).writeArray(t.partitions.map(bytes)));
    const payload = E().writeString(o.transactionalId).writeInt16(o.acks).writeInt32(o.timeout).writeArray(topicEncoders);
    const request = E().writeInt16(apiKey).writeInt16(apiVersion).writeInt32(o.correlationId).writeString(o.clientId).writeEncoder(payload);
    return E().writeInt32(request.buffer.length).writeEncoder(request).buffer;
  }

  it.each<[string, string | null, Array<{ topic: string; partitions: Array<Array<{ key: string | null; value: Buffer | null }>> }>]>([
    ['one topic, one partition', null, [{ topic: 'presence-snapshots', partitions: [[{ key: 'u1', value: Buffer.from('v') }]] }]],
    ['three topics, several partitions, transactional', 'tx-7', [
      { topic: 'snapshots', partitions: [[{ key: 'a', value: Buffer.alloc(300, 1) }, { key: 'b', value: null }], [{ key: 'c', value: Buffer.alloc(5, 2) }]] },
      { topic: 'changes', partitions: [[{ key: 'ü', value: Buffer.from('x') }]] },
      { topic: 'changelog', partitions: Array.from({ length: 4 }, (_, p) => Array.from({ length: 50 * (p + 1) }, (_, i) => ({ key: `u/${p}-${i}`, value: Buffer.alloc(i, p) }))) },
    ]],
  ])('%s: its parts joined are the bytes the original framing wrote', async (_name, transactionalId, topics) => {
    const o = { transactionalId, acks: -1, timeout: 30_000, correlationId: 99, clientId: 'presence-processor' };
    const request = ProduceV3({
      acks: o.acks, timeout: o.timeout, transactionalId, producerId: Long.fromInt(12), producerEpoch: 1,
      topicData: topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((messages, partition) => ({ partition, firstSequence: 0, messages })) })),
    });
    const payload = await request.encode();
    const written = await createRequest({ correlationId: o.correlationId, clientId: o.clientId, request });
    expect(Array.isArray(written.parts)).toBe(true);
    const joined = Buffer.concat(written.parts as Buffer[]);
    expect(written.length).toBe(joined.length);
    expect(written.buffer.equals(joined)).toBe(true);
    // The partitions' record batches are parts of their own, in order (after the request's header
    // and the payload's head; each encode stamps its own time): the reference frames those.
    const parts = written.parts as Buffer[];
    const partitionBytes: Buffer[] = [];
    let at = 2;
    for (const t of topics) {
      partitionBytes.push(...parts.slice(at + 1, at + 1 + t.partitions.length));
      at += 1 + t.partitions.length;
    }
    let k = 0;
    const framed = topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map(() => partitionBytes[k++] as Buffer) }));
    expect(joined.equals(reference(o, framed, request.apiKey, request.apiVersion))).toBe(true);
    expect(payload.size()).toBe(payload.buffer.length);
  });
});
