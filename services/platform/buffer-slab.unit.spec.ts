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
