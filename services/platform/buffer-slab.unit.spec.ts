import { BufferSlab } from './buffer-slab';

describe('BufferSlab.encode (in place)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const avro = require('avsc') as typeof import('avsc');
  const bytesType = avro.Type.forSchema('bytes');
  const header = Buffer.from([0xa1, 0xb2, 0xc3]);
  const expected = (value: Buffer) => Buffer.concat([header, bytesType.toBuffer(value)]);

  it.each([
    ['an empty value', 0],
    ['a snapshot-sized value', 300],
    ['a value that fills most of a slab', 1000],
    ['a value larger than a slab (a buffer of its own)', 5000],
  ])('writes the header then avsc\'s bytes for %s', (_name, length) => {
    const slab = new BufferSlab(1024);
    const value = Buffer.from(Array.from({ length }, (_, i) => (i * 7) & 0xff));
    expect(slab.encode(header, bytesType, value).equals(expected(value))).toBe(true);
  });

  it('a record that does not fit what is left moves to a fresh slab; every earlier record stays intact', () => {
    const slab = new BufferSlab(256);
    const values = Array.from({ length: 40 }, (_, i) => Buffer.alloc(20 + (i % 7) * 9, i));
    const encoded = values.map((v) => slab.encode(header, bytesType, v));
    values.forEach((v, i) => expect(encoded[i]?.equals(expected(v))).toBe(true));
    expect(new Set(encoded.map((e) => e.buffer)).size).toBeGreaterThan(1);
    // No two records overlap within a slab.
    const bySlab = new Map<ArrayBufferLike, Array<[number, number]>>();
    for (const e of encoded) bySlab.set(e.buffer, [...(bySlab.get(e.buffer) ?? []), [e.byteOffset, e.byteOffset + e.length]]);
    for (const ranges of bySlab.values()) {
      ranges.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBeGreaterThanOrEqual(ranges[i - 1]![1]);
    }
  });

  it('an encoder that throws leaves the slab as it was: the next record is whole and the earlier one untouched', () => {
    const slab = new BufferSlab(1024);
    const first = slab.encode(header, bytesType, Buffer.from('first'));
    const failing = { encode: (_v: unknown, buf: Buffer, pos: number) => { buf.fill(0xee, pos - header.length, pos + 20); throw new Error('not a bytes value'); } };
    expect(() => slab.encode(header, failing, null)).toThrow('not a bytes value');
    const next = slab.encode(header, bytesType, Buffer.from('next'));
    expect(first.equals(expected(Buffer.from('first')))).toBe(true);
    expect(next.equals(expected(Buffer.from('next')))).toBe(true);
  });
});
