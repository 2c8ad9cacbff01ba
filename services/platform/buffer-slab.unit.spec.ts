import { BufferSlab } from './buffer-slab';

describe('BufferSlab', () => {
  it.each([
    ['an empty record', 0],
    ['one byte', 1],
    ['a snapshot-sized record', 300],
    ['an eighth of a slab (still carved)', 128],
    ['past an eighth of a slab (own buffer)', 129],
  ])('copies %s exactly', (_name, length) => {
    const slab = new BufferSlab(1024);
    const source = Buffer.from(Array.from({ length: length + 10 }, (_, i) => i & 0xff));
    const copy = slab.copyOf(source, 5, 5 + length);
    expect(copy.length).toBe(length);
    expect(copy.equals(source.subarray(5, 5 + length))).toBe(true);
  });

  it('keeps earlier copies intact when later ones fill the slab and open a new one', () => {
    const slab = new BufferSlab(256);
    const copies = Array.from({ length: 40 }, (_, i) => ({ want: Buffer.alloc(30, i), got: Buffer.alloc(0) as Buffer }));
    for (const c of copies) c.got = slab.copyOf(c.want);
    for (const c of copies) expect(c.got.equals(c.want)).toBe(true);
    // 40 records of 32 aligned bytes in slabs of 256: more than one slab was used.
    expect(new Set(copies.map((c) => c.got.buffer)).size).toBeGreaterThan(1);
  });

  it('does not let a copy alias its source', () => {
    const slab = new BufferSlab();
    const source = Buffer.from('abc');
    const copy = slab.copyOf(source);
    source[0] = 0x7a;
    expect(copy.toString()).toBe('abc');
  });

  it('gives a record larger than an eighth of a slab a buffer of its own', () => {
    const slab = new BufferSlab(1024);
    const small = slab.copyOf(Buffer.alloc(10, 1));
    const large = slab.copyOf(Buffer.alloc(200, 2));
    expect(large.buffer).not.toBe(small.buffer);
  });
});

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
